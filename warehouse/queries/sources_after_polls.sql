-- Record the outcome of a batch of feed polls on their source rows (the relation polled_sources
-- holds one row per polled source: ok, etag, last_modified, moved_to, disable_reason,
-- backoff_until); the same rules as source_after_poll.sql, set-wise.
UPDATE sources SET
    last_polled_at = $now,
    last_success_at = CASE WHEN p.ok THEN $now ELSE sources.last_success_at END,
    consecutive_failures = CASE WHEN p.ok THEN 0 ELSE sources.consecutive_failures + 1 END,
    backoff_until = p.backoff_until,
    etag = CASE WHEN p.ok AND p.etag IS NOT NULL THEN p.etag ELSE sources.etag END,
    last_modified = CASE WHEN p.ok AND p.last_modified IS NOT NULL THEN p.last_modified
                         ELSE sources.last_modified END,
    current_feed_url = coalesce(p.moved_to, sources.current_feed_url),
    disabled_at = CASE WHEN p.disable_reason IS NOT NULL THEN $now ELSE sources.disabled_at END,
    disabled_reason = coalesce(p.disable_reason, sources.disabled_reason)
FROM polled_sources AS p
WHERE sources.source_id = p.source_id;
