-- The coverage funnel of week $week per source (mart_coverage_funnel), busiest first.
SELECT f.source_id,
       coalesce(s.name, f.source_id) AS source_name,
       f.discovered, f.fetched, f.extracted, f.duplicates, f.scored, f.failed_entries,
       f.feed_fetches, f.failed_fetches
FROM mart_coverage_funnel AS f
LEFT JOIN sources AS s USING (source_id)
WHERE f.week = $week
ORDER BY f.discovered DESC, f.source_id;
