-- Sources to poll now: listed, not disabled, not backing off, and not polled within the interval.
SELECT source_id, coalesce(current_feed_url, feed_url) AS url, etag, last_modified,
       consecutive_failures
FROM sources
WHERE active
  AND disabled_at IS NULL
  AND (backoff_until IS NULL OR backoff_until <= $now)
  AND (last_polled_at IS NULL OR last_polled_at <= $now - to_microseconds(CAST($interval_us AS BIGINT)))
ORDER BY source_id;
