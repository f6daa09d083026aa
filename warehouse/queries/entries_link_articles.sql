-- Point the pending entries of each canonical URL of the registered relation article_links
-- (one row per URL) at its article: a batch of store_article links in one statement.
UPDATE entries SET state = l.state, article_id = l.article_id, attempts = entries.attempts + 1,
       last_attempt_at = l.linked_at, last_error_class = NULL, last_error = NULL
FROM article_links l
WHERE entries.canonical_url = l.canonical_url AND entries.state IN ('new', 'failed');
