-- grain: one row per feed entry (source_id, guid).
-- week / week_start: ISO week of discovered_at; attempt_week: ISO week of last_attempt_at;
-- both in the time zone of the DuckDB variable axiswatch_tz (default 'Asia/Seoul').
CREATE OR REPLACE VIEW stg_entries AS
WITH local AS (
    SELECT e.*,
           timezone(coalesce(getvariable('axiswatch_tz'), 'Asia/Seoul'), e.discovered_at)
               AS discovered_local,
           timezone(coalesce(getvariable('axiswatch_tz'), 'Asia/Seoul'), e.last_attempt_at)
               AS attempt_local
    FROM entries AS e
)
SELECT source_id,
       guid,
       url,
       canonical_url,
       title,
       state,
       attempts,
       article_id,
       discovered_at,
       strftime(discovered_local, '%G-W%V') AS week,
       CAST(date_trunc('week', discovered_local) AS DATE) AS week_start,
       last_attempt_at,
       strftime(attempt_local, '%G-W%V') AS attempt_week,
       last_error_class,
       last_error,
       state IN ('stored', 'duplicate') AS is_fetched,
       state IN ('failed', 'gave_up') AS is_failed
FROM local;
