-- title: runs
SELECT run_id, flow, outcome, discovered, extracted, duplicates, failed FROM runs ORDER BY run_id;
