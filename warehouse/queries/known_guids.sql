-- Guids of one source already in entries (to count what a feed adds).
SELECT guid FROM entries WHERE source_id = $source_id;
