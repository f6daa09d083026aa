-- For each of some text hashes ($hashes), the earliest original (non-duplicate) with that text.
SELECT text_hash, article_id
FROM articles
WHERE text_hash IN (SELECT unnest($hashes)) AND duplicate_of IS NULL
QUALIFY row_number() OVER (PARTITION BY text_hash ORDER BY extracted_at, article_id) = 1;
