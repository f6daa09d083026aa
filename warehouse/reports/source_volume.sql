-- Article volume per source and week in the report window (every source listed in `sources`,
-- plus any source that only appears on articles); weeks without articles are absent.
-- $first_week / $last_week: week_start dates (Mondays) of the window, inclusive.
SELECT coalesce(s.source_id, m.source_id) AS source_id,
       coalesce(s.name, m.source_name) AS source_name,
       coalesce(s.active, FALSE) AS active,
       m.week,
       coalesce(m.n_articles, 0) AS n_articles,
       coalesce(m.n_scored, 0) AS n_scored,
       coalesce(m.n_relevant, 0) AS n_relevant
FROM sources AS s
FULL OUTER JOIN (
    SELECT * FROM mart_weekly_stance_source WHERE week_start BETWEEN $first_week AND $last_week
) AS m USING (source_id)
ORDER BY source_id, m.week_start;
