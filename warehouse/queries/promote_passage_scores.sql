-- Re-score swap: copy the staged passage scores under the real version (old rows deleted first,
-- in the same transaction).
INSERT INTO passage_scores
SELECT * REPLACE (CAST($version AS VARCHAR) AS model_version)
FROM passage_scores WHERE model_version = $staging;
