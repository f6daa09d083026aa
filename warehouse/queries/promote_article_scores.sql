-- Re-score swap: copy the staged article scores under the real version (old rows deleted first,
-- in the same transaction).
INSERT INTO article_scores
SELECT * REPLACE (CAST($version AS VARCHAR) AS model_version)
FROM article_scores WHERE model_version = $staging;
