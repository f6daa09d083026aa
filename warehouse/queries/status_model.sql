-- The model version scores are read from (latest registered), with its article count.
SELECT m.model_version, m.created_at,
       (SELECT count(*) FROM article_scores s WHERE s.model_version = m.model_version) AS articles_scored
FROM model_versions m ORDER BY m.created_at DESC LIMIT 1;
