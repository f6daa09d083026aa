-- grain: one row per (source_id, week) in which the source had an entry discovered or a feed fetch.
-- Entry stages count the entries discovered that week (cohort by discovered_at):
--   discovered: entries; fetched: entries in state stored|duplicate (page or feed text obtained);
--   extracted: distinct articles stored from them for this source (content duplicates included);
--   duplicates: of those, articles folded as duplicate_of another (never scored);
--   scored: of those, non-duplicate articles scored by the pinned model version;
--   failed_entries: entries in state failed|gave_up; pending: entries still in state new.
-- Feed stages count feed HTTP attempts started that week: feed_fetches, failed_fetches (error_class).
-- failed = failed_entries + failed_fetches. Weeks: ISO weeks in axiswatch_tz (see stg_articles).
CREATE OR REPLACE VIEW mart_coverage_funnel AS
WITH owned AS (
    SELECT e.*,
           a.article_id AS owned_article,
           a.duplicate_of IS NOT NULL AS owned_is_duplicate
    FROM stg_entries AS e
    LEFT JOIN articles AS a
           ON a.article_id = e.article_id AND e.state = 'stored' AND a.source_id = e.source_id
),
entry_weeks AS (
    SELECT o.source_id,
           o.week,
           o.week_start,
           count(*) AS discovered,
           count(*) FILTER (WHERE o.is_fetched) AS fetched,
           count(DISTINCT o.owned_article) AS extracted,
           count(DISTINCT o.owned_article) FILTER (WHERE o.owned_is_duplicate) AS duplicates,
           count(DISTINCT sc.article_id) AS scored,
           count(*) FILTER (WHERE o.is_failed) AS failed_entries,
           count(*) FILTER (WHERE o.state = 'new') AS pending
    FROM owned AS o
    LEFT JOIN stg_article_scores AS sc ON sc.article_id = o.owned_article
    GROUP BY o.source_id, o.week, o.week_start
),
fetch_weeks AS (
    SELECT source_id,
           week,
           week_start,
           count(*) AS feed_fetches,
           count(*) FILTER (WHERE is_error) AS failed_fetches
    FROM stg_feed_fetches
    GROUP BY source_id, week, week_start
)
SELECT coalesce(e.source_id, f.source_id) AS source_id,
       coalesce(e.week, f.week) AS week,
       coalesce(e.week_start, f.week_start) AS week_start,
       coalesce(e.discovered, 0) AS discovered,
       coalesce(e.fetched, 0) AS fetched,
       coalesce(e.extracted, 0) AS extracted,
       coalesce(e.duplicates, 0) AS duplicates,
       coalesce(e.scored, 0) AS scored,
       coalesce(e.failed_entries, 0) AS failed_entries,
       coalesce(e.pending, 0) AS pending,
       coalesce(f.feed_fetches, 0) AS feed_fetches,
       coalesce(f.failed_fetches, 0) AS failed_fetches,
       coalesce(e.failed_entries, 0) + coalesce(f.failed_fetches, 0) AS failed
FROM entry_weeks AS e
FULL OUTER JOIN fetch_weeks AS f
       ON f.source_id = e.source_id AND f.week = e.week;
