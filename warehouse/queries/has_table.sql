-- Whether a table exists in the current warehouse. Params: table.
SELECT count(*) FROM duckdb_tables() WHERE table_name = $table AND database_name = current_database()
