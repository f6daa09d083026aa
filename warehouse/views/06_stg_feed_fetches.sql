-- grain: one row per feed HTTP attempt (fetch_id).
-- week / week_start: ISO week of started_at in the time zone of the DuckDB variable
-- axiswatch_tz (default 'Asia/Seoul'). is_error: the attempt ended with an error class.
CREATE OR REPLACE VIEW stg_feed_fetches AS
WITH local AS (
    SELECT f.*,
           timezone(coalesce(getvariable('axiswatch_tz'), 'Asia/Seoul'), f.started_at) AS started_local
    FROM feed_fetches AS f
)
SELECT fetch_id,
       run_id,
       source_id,
       url,
       started_at,
       strftime(started_local, '%G-W%V') AS week,
       CAST(date_trunc('week', started_local) AS DATE) AS week_start,
       status_code,
       error_class,
       error_message,
       not_modified,
       entries_seen,
       entries_new,
       error_class IS NOT NULL AS is_error
FROM local;
