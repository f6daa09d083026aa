-- Guids already in entries for a batch of sources (to count what each polled feed adds).
SELECT source_id, guid FROM entries WHERE source_id IN (SELECT unnest($source_ids));
