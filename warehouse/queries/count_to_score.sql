-- How many originals (not duplicates) have no article_scores row for the model version (progress).
SELECT count(*)
FROM articles a
WHERE a.duplicate_of IS NULL
  AND NOT EXISTS (SELECT 1 FROM article_scores s
                  WHERE s.article_id = a.article_id AND s.model_version = $model_version);
