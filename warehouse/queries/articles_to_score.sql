-- Originals (not duplicates) with no article_scores row for the model version, after a cursor.
SELECT a.article_id, a.text
FROM articles a
WHERE a.duplicate_of IS NULL
  AND a.article_id > $after
  AND NOT EXISTS (SELECT 1 FROM article_scores s
                  WHERE s.article_id = a.article_id AND s.model_version = $model_version)
ORDER BY a.article_id
LIMIT $limit;
