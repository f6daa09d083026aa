-- Articles whose search text was not tagged by the dictionary with content hash $1 (at most $2).
SELECT article_id, search_text
FROM article_search
WHERE topics_hash IS DISTINCT FROM $1
ORDER BY article_id
LIMIT $2;
