-- grain: at most one row: the model version every stg_* score view is pinned to.
-- The pinned ("latest") version is the model_versions row with the newest created_at; when
-- model_versions is empty, the version in article_scores with the newest scored_at.
-- Older versions' scores stay in the tables (re-scoring never deletes) but no view shows them.
CREATE OR REPLACE VIEW stg_model_version AS
WITH registered AS (
    SELECT model_version, created_at AS pinned_at, card_json, 'model_versions' AS pinned_by
    FROM model_versions
    ORDER BY created_at DESC, model_version DESC
    LIMIT 1
),
observed AS (
    SELECT model_version, max(scored_at) AS pinned_at, CAST(NULL AS VARCHAR) AS card_json,
           'article_scores' AS pinned_by
    FROM article_scores
    GROUP BY model_version
    ORDER BY pinned_at DESC, model_version DESC
    LIMIT 1
)
SELECT * FROM registered
UNION ALL
SELECT * FROM observed WHERE NOT EXISTS (SELECT 1 FROM registered);
