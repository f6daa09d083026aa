-- Open a run ledger row and return its id.
INSERT INTO runs (flow, trigger, prefect_run_id, started_at, model_version)
VALUES ($flow, $trigger, $prefect_run_id, $now, $model_version)
RETURNING run_id;
