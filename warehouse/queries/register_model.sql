-- Register a model version with its card as complete (its whole archive is scored), once; an
-- incomplete row gets its completion time. MERGE keeps the key on both backends.
MERGE INTO model_versions AS m
USING (SELECT CAST($version AS VARCHAR) AS model_version) AS v
ON m.model_version = v.model_version
WHEN MATCHED THEN UPDATE SET completed_at = coalesce(m.completed_at, CAST($now AS TIMESTAMPTZ))
WHEN NOT MATCHED THEN INSERT (model_version, created_at, card_json, completed_at)
    VALUES (v.model_version, $now, $card, $now);
