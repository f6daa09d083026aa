-- Close a run ledger row with its funnel counts and outcome.
UPDATE runs SET finished_at = $now, outcome = $outcome,
    feeds_polled = $feeds_polled, feeds_failed = $feeds_failed, discovered = $discovered,
    fetched = $fetched, extracted = $extracted, duplicates = $duplicates,
    scored = $scored, failed = $failed, failures_json = $failures_json, message = $message
WHERE run_id = $run_id;
