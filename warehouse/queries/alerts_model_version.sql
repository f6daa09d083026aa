-- The pinned model version (NULL when none): recorded with each alert.
SELECT any_value(model_version) FROM stg_model_version;
