-- Non-duplicate articles per (source, week) for the weeks starting on or after $first_week.
SELECT source_id, week, count(*) AS n_articles
FROM stg_articles
WHERE week_start >= $first_week
GROUP BY source_id, week;
