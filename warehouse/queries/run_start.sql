-- Open a run ledger row (ids are made by the client so a locked warehouse can spool this); a
-- replayed start adds nothing (the key is kept by this statement: a DuckLake has no primary keys).
INSERT INTO runs (run_id, flow, trigger, prefect_run_id, started_at, model_version)
SELECT $run_id, $flow, $trigger, $prefect_run_id, $now, $model_version
WHERE NOT EXISTS (SELECT 1 FROM runs WHERE run_id = $run_id);
