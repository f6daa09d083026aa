-- Entries whose page still has to be fetched: new, or failed with attempts left and not
-- already tried in this run (attempted before $before); oldest first.
SELECT e.source_id, e.guid, e.url, e.canonical_url, e.title, e.author, e.published_at,
       e.feed_content, e.attempts, s.language AS source_language
FROM entries e JOIN sources s USING (source_id)
WHERE e.state IN ('new', 'failed') AND e.attempts < $max_attempts
  AND (e.last_attempt_at IS NULL OR e.last_attempt_at < $before)
ORDER BY e.discovered_at, e.source_id, e.guid
LIMIT $limit;
