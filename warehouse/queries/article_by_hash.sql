-- The original (non-duplicate) article with exactly this text, if any.
SELECT article_id FROM articles
WHERE text_hash = $text_hash AND duplicate_of IS NULL
ORDER BY extracted_at, article_id LIMIT 1;
