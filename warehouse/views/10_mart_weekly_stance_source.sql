-- grain: one row per (source_id, week) with at least one non-duplicate article dated in that week.
-- n_articles: non-duplicate articles; n_scored: of those, scored by the pinned model;
-- n_relevant: scored articles with a stance score (is_relevant); relevant_share = n_relevant / n_scored.
-- mean_score / std_score (sample std): over relevant articles' scores (P(washington) - P(beijing)).
-- share_<label>: share of scored articles whose article label is <label> (the four labels).
-- Weeks: ISO weeks in axiswatch_tz (see stg_articles).
CREATE OR REPLACE VIEW mart_weekly_stance_source AS
SELECT a.source_id,
       any_value(a.source_name) AS source_name,
       a.week,
       a.week_start,
       count(*) AS n_articles,
       count(s.article_id) AS n_scored,
       count(*) FILTER (WHERE s.is_relevant) AS n_relevant,
       (count(*) FILTER (WHERE s.is_relevant)) / nullif(count(s.article_id), 0) AS relevant_share,
       avg(s.score) FILTER (WHERE s.is_relevant) AS mean_score,
       stddev_samp(s.score) FILTER (WHERE s.is_relevant) AS std_score,
       (count(*) FILTER (WHERE s.label = 'washington')) / nullif(count(s.article_id), 0) AS share_washington,
       (count(*) FILTER (WHERE s.label = 'hedge')) / nullif(count(s.article_id), 0) AS share_hedge,
       (count(*) FILTER (WHERE s.label = 'beijing')) / nullif(count(s.article_id), 0) AS share_beijing,
       (count(*) FILTER (WHERE s.label = 'irrelevant')) / nullif(count(s.article_id), 0) AS share_irrelevant
FROM stg_articles AS a
LEFT JOIN stg_article_scores AS s USING (article_id)
GROUP BY a.source_id, a.week, a.week_start;
