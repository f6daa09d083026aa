-- Runs that never finished (killed process) are closed as interrupted when the next one starts.
UPDATE runs SET outcome = 'interrupted', finished_at = coalesce(finished_at, $now)
WHERE outcome IS NULL AND flow = $flow;
