-- The Mondays of the oldest and the newest week with a dated non-duplicate article (NULLs when empty).
SELECT min(week_start) AS first_start, max(week_start) AS week_start FROM stg_articles;
