-- Record a failed page attempt for every pending entry with this canonical URL.
UPDATE entries SET
    attempts = attempts + 1,
    state = CASE WHEN attempts + 1 >= $max_attempts THEN 'gave_up' ELSE 'failed' END,
    last_error_class = $error_class, last_error = $error, last_attempt_at = $now
WHERE canonical_url = $canonical_url AND state IN ('new', 'failed');
