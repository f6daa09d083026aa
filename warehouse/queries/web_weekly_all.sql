-- The weekly stance index over all outlets: relevant scored articles (pinned model) per week,
-- their mean score and sample std, for the weeks starting on or after $first_week.
SELECT week, week_start, count(*) AS n_relevant, avg(score) AS mean_score, stddev_samp(score) AS std_score
FROM stg_article_scores
WHERE is_relevant AND week_start >= $first_week
GROUP BY week, week_start
ORDER BY week_start;
