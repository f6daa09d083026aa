-- Remove one model version's passage scores (rescore of the same version).
DELETE FROM passage_scores WHERE model_version = $version;
