-- The article already stored under a canonical URL, if any.
SELECT article_id FROM articles WHERE canonical_url = $canonical_url;
