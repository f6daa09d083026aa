-- Per source (one row per source with entries): when its newest entry appeared, and the gaps
-- between its last 50 distinct entry times, for the silence rule of `axiswatch status`.
-- An entry's time is its publication time, but never later than when the feed first listed
-- it (future or missing dates fall back to discovered_at).
WITH times AS (
    SELECT DISTINCT source_id, least(coalesce(published_at, discovered_at), discovered_at) AS entry_at
    FROM entries
), recent AS (
    SELECT source_id, entry_at, row_number() OVER (PARTITION BY source_id ORDER BY entry_at DESC) AS n
    FROM times
), gaps AS (
    SELECT source_id, entry_at,
           epoch(entry_at) - epoch(lag(entry_at) OVER (PARTITION BY source_id ORDER BY entry_at)) AS gap_seconds
    FROM recent WHERE n <= 51
)
SELECT source_id,
       max(entry_at) AS newest_entry_at,
       count(gap_seconds) AS gaps,
       quantile_cont(gap_seconds, 0.9) AS p90_gap_seconds
FROM gaps GROUP BY source_id ORDER BY source_id;
