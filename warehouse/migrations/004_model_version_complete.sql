-- 004: a completion marker for model versions. A version's row may exist before its scores
-- are complete; stg_model_version pins only versions with completed_at set. Versions
-- registered before this migration were registered only once fully scored, so they are
-- complete as of their registration.
ALTER TABLE model_versions ADD COLUMN completed_at TIMESTAMPTZ;
UPDATE model_versions SET completed_at = created_at;
