-- Fingerprints of the originals (non-duplicates) among some article ids ($ids), earliest first.
SELECT article_id, fingerprint
FROM articles
WHERE article_id IN (SELECT unnest($ids)) AND duplicate_of IS NULL
ORDER BY extracted_at, article_id;
