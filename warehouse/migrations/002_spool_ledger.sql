-- 002: spool files applied (writes kept aside while the warehouse was locked), exactly once.
-- one row per spool file
CREATE TABLE spool_ledger (
    spool_file  VARCHAR PRIMARY KEY,
    ops         INTEGER NOT NULL,
    applied_at  TIMESTAMPTZ NOT NULL
);
