-- Per-source health: last poll and success, failures in a row, backoff, disabled and why,
-- the last attempt's error, and whether its publication dates are synthetic (the demo's marker
-- $marker in its sources.toml `notes`: silence is then an artefact, never judged).
SELECT s.source_id, s.active, s.last_polled_at, s.last_success_at, s.consecutive_failures,
       s.backoff_until, s.disabled_reason,
       (SELECT f.error_class FROM feed_fetches f WHERE f.source_id = s.source_id
        ORDER BY f.started_at DESC LIMIT 1) AS last_error_class,
       (SELECT count(*) FROM articles a WHERE a.source_id = s.source_id) AS articles,
       coalesce(json_extract_string(s.config_json, '$.notes'), '') LIKE '%' || $marker || '%'
           AS synthetic_dates
FROM sources s ORDER BY s.source_id;
