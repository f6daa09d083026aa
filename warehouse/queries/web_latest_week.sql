-- The Monday of the newest week with a dated non-duplicate article (NULL on an empty warehouse).
SELECT max(week_start) AS week_start FROM stg_articles;
