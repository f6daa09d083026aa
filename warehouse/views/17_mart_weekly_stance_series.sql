-- grain: one row per (series_kind, series_key, week) with at least one relevant article in the
-- series that ISO week (axiswatch_tz; see stg_articles). Measures as in mart_daily_stance_series.
-- For series_kind country/kind the index equals mart_weekly_stance_group.mean_score.
CREATE OR REPLACE VIEW mart_weekly_stance_series AS
SELECT series_kind,
       series_key,
       week,
       any_value(week_start) AS week_start,
       count(*) AS n_relevant,
       avg(score) AS stance_index,
       stddev_samp(score) AS std_score
FROM stg_series_articles
GROUP BY series_kind, series_key, week;
