-- grain: at most one row: the model version every stg_* score view is pinned to.
-- The pinned ("latest") version is the newest registered AND complete model_versions row
-- (completed_at set once every original article has its scores). A version being scored or
-- re-scored is never pinned: a re-score writes beside the old rows and swaps them in one
-- transaction (flows/score.py), so readers see the old complete set until the new one is.
-- With no complete version, nothing is pinned and the score views are empty.
-- Older versions' scores stay in the tables but no view shows them.
CREATE OR REPLACE VIEW stg_model_version AS
SELECT model_version, completed_at AS pinned_at, card_json, 'model_versions' AS pinned_by
FROM model_versions
WHERE completed_at IS NOT NULL
ORDER BY created_at DESC, model_version DESC
LIMIT 1;
