-- Whether a spool file was already applied (one row if so).
SELECT 1 FROM spool_ledger WHERE spool_file = $spool_file;
