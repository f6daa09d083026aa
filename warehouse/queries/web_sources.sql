-- Per-source health: configuration, last poll and success, failures in a row, backoff, disabled
-- reason, the last attempt's status and error class, articles and the newest article's date.
SELECT s.source_id, s.name, s.kind, s.country, s.language, s.active, s.last_polled_at,
       s.last_success_at, s.consecutive_failures, s.backoff_until, s.disabled_reason,
       f.status_code AS last_status, f.error_class AS last_error_class, f.error_message AS last_error,
       (SELECT count(*) FROM stg_articles AS a WHERE a.source_id = s.source_id) AS articles,
       (SELECT max(a.dated_at) FROM stg_articles AS a WHERE a.source_id = s.source_id) AS last_article_at
FROM sources AS s
LEFT JOIN (
    SELECT * FROM stg_feed_fetches
    QUALIFY row_number() OVER (PARTITION BY source_id ORDER BY started_at DESC, fetch_id DESC) = 1
) AS f USING (source_id)
ORDER BY s.active DESC, s.consecutive_failures DESC, s.source_id;
