-- The waves of one fanned-out pipeline run (flows/tools/feed_cycle_pool.py): for the parent run
-- recorded with Prefect flow run id $prefect_run_id, per stage of its shard runs, how many shards
-- ran, and the wall seconds from the first shard's start to the last one's finish.
SELECT
    split_part(s.flow, '-', 1) AS stage,
    count(*) AS shards,
    epoch(max(s.finished_at)) - epoch(min(s.started_at)) AS seconds
FROM runs AS p
JOIN runs AS s ON s.trigger = 'shard:' || p.run_id
WHERE p.prefect_run_id = $prefect_run_id
GROUP BY 1
ORDER BY min(s.started_at);
