-- 003: an index on LSH buckets. DuckDB cannot use the (band, bucket, article_id) primary key
-- for the near-duplicate candidate lookup, which so scanned every article's bands; with this
-- index, `bucket IN (...)` (warehouse/queries/neardup_candidates.sql) reads a few entries.
CREATE INDEX article_bands_bucket ON article_bands (bucket);
