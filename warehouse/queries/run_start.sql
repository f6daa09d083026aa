-- Open a run ledger row (ids are made by the client so a locked warehouse can spool this).
INSERT INTO runs (run_id, flow, trigger, prefect_run_id, started_at, model_version)
VALUES ($run_id, $flow, $trigger, $prefect_run_id, $now, $model_version)
ON CONFLICT (run_id) DO NOTHING;
