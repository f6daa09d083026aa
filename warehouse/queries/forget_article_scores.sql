-- Remove one model version's article scores (rescore of the same version).
DELETE FROM article_scores WHERE model_version = $version;
