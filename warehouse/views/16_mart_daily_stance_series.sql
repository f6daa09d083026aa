-- grain: one row per (series_kind, series_key, day) with at least one relevant article in the
-- series that day (stg_series_articles; day = calendar date in axiswatch_tz).
-- index: the weekly report's stance index for the day: mean of the articles' scores (each the
-- relevance-weighted mean of its confident passages); n_relevant: articles averaged (the report
-- shows no index below 3); std_score: their sample standard deviation (NULL for one article).
CREATE OR REPLACE VIEW mart_daily_stance_series AS
SELECT series_kind,
       series_key,
       day,
       count(*) AS n_relevant,
       avg(score) AS stance_index,
       stddev_samp(score) AS std_score
FROM stg_series_articles
GROUP BY series_kind, series_key, day;
