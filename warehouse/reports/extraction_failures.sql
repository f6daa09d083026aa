-- Entries whose page could not be fetched or extracted, last attempted in week $week,
-- per source and error class; gave_up = no attempts left.
SELECT e.source_id,
       coalesce(any_value(s.name), e.source_id) AS source_name,
       coalesce(e.last_error_class, '(unknown)') AS error_class,
       count(*) AS entries,
       count(*) FILTER (WHERE e.state = 'gave_up') AS gave_up,
       min(e.url) AS example_url
FROM stg_entries AS e
LEFT JOIN sources AS s USING (source_id)
WHERE e.is_failed AND e.attempt_week = $week
GROUP BY e.source_id, error_class
ORDER BY entries DESC, e.source_id, error_class;
