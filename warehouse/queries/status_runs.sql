-- The last runs of every flow, newest first.
SELECT run_id, flow, trigger, started_at, finished_at,
       coalesce(outcome, 'running') AS outcome, discovered, extracted, scored, failed, message
FROM runs ORDER BY started_at DESC LIMIT $limit;
