-- The weekly stance index per group of one kind ($group_kind: country, kind or affiliation) from
-- mart_weekly_stance_group, for the weeks starting on or after $first_week.
SELECT group_value, week, week_start, n_relevant, mean_score, std_score
FROM mart_weekly_stance_group
WHERE group_kind = $group_kind AND week_start >= $first_week
ORDER BY group_value, week_start;
