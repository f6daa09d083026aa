-- Point every entry with this canonical URL at the stored article.
UPDATE entries SET state = $state, article_id = $article_id, attempts = attempts + 1,
       last_attempt_at = $now, last_error_class = NULL, last_error = NULL
WHERE canonical_url = $canonical_url AND state IN ('new', 'failed');
