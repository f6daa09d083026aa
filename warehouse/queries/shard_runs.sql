-- The finished ledger rows of a fanned-out run's shards: the latest ok/partial attempt of each
-- shard flow run ($ids: their Prefect flow run ids), with the feeds that answered 304.
WITH latest AS (
    SELECT *
    FROM runs
    WHERE list_contains($ids, prefect_run_id) AND outcome IN ('ok', 'partial')
    QUALIFY row_number() OVER (PARTITION BY prefect_run_id ORDER BY started_at DESC) = 1
)
SELECT l.run_id,
       coalesce(l.feeds_polled, 0), coalesce(l.feeds_failed, 0), coalesce(l.discovered, 0),
       coalesce(l.fetched, 0), coalesce(l.extracted, 0), coalesce(l.duplicates, 0),
       coalesce(l.failed, 0), coalesce(l.scored, 0), l.failures_json,
       (SELECT count(*) FROM feed_fetches f WHERE f.run_id = l.run_id AND f.not_modified) AS not_modified
FROM latest l
ORDER BY l.run_id;
