-- Record a spool file as applied, in the same transaction as its writes (exactly once).
INSERT INTO spool_ledger (spool_file, ops, applied_at) VALUES ($spool_file, $ops, $applied_at);
