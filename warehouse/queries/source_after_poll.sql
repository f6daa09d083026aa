-- Record the outcome of one feed poll on its source row.
UPDATE sources SET
    last_polled_at = $now,
    last_success_at = CASE WHEN $ok THEN $now ELSE last_success_at END,
    consecutive_failures = CASE WHEN $ok THEN 0 ELSE consecutive_failures + 1 END,
    backoff_until = $backoff_until,
    etag = CASE WHEN $ok AND $etag IS NOT NULL THEN $etag ELSE etag END,
    last_modified = CASE WHEN $ok AND $last_modified IS NOT NULL THEN $last_modified ELSE last_modified END,
    current_feed_url = coalesce($moved_to, current_feed_url),
    disabled_at = CASE WHEN $disable_reason IS NOT NULL THEN $now ELSE disabled_at END,
    disabled_reason = coalesce($disable_reason, disabled_reason)
WHERE source_id = $source_id;
