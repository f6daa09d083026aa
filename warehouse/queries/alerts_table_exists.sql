-- Whether this warehouse has the alerts table (migration 020): 1 or 0.
SELECT count(*)
FROM duckdb_tables()
WHERE table_name = 'alerts' AND database_name = current_database();
