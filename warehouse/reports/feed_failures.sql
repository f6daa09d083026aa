-- Sources whose feed fetches failed in week $week (by fetch start time), worst first.
SELECT f.source_id,
       coalesce(any_value(s.name), f.source_id) AS source_name,
       count(*) FILTER (WHERE f.is_error) AS failed,
       count(*) AS attempts,
       string_agg(DISTINCT f.error_class, ', ' ORDER BY f.error_class) AS error_classes,
       arg_max(f.error_message, f.started_at) FILTER (WHERE f.is_error) AS last_error
FROM stg_feed_fetches AS f
LEFT JOIN sources AS s USING (source_id)
WHERE f.week = $week
GROUP BY f.source_id
HAVING count(*) FILTER (WHERE f.is_error) > 0
ORDER BY failed DESC, f.source_id;
