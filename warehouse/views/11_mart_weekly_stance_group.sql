-- grain: one row per (group_kind, group_value, week); group_kind is 'country', 'kind' or
-- 'affiliation' (the source attribute), group_value its value ('(none)' for a source without
-- affiliation, '(unknown)' for an article whose source row is missing).
-- Measures as in mart_weekly_stance_source, plus n_sources (sources with an article that week).
CREATE OR REPLACE VIEW mart_weekly_stance_group AS
WITH base AS (
    SELECT a.article_id, a.source_id, a.country, a.kind, a.affiliation, a.week, a.week_start,
           s.article_id AS scored_id, s.score, s.label, s.is_relevant
    FROM stg_articles AS a
    LEFT JOIN stg_article_scores AS s USING (article_id)
),
grouped AS (
    SELECT 'country' AS group_kind, coalesce(country, '(unknown)') AS group_value, * FROM base
    UNION ALL
    SELECT 'kind', coalesce(kind, '(unknown)'), * FROM base
    UNION ALL
    SELECT 'affiliation',
           CASE WHEN country IS NULL THEN '(unknown)' ELSE coalesce(affiliation, '(none)') END, *
    FROM base
)
SELECT group_kind,
       group_value,
       week,
       week_start,
       count(DISTINCT source_id) AS n_sources,
       count(*) AS n_articles,
       count(scored_id) AS n_scored,
       count(*) FILTER (WHERE is_relevant) AS n_relevant,
       (count(*) FILTER (WHERE is_relevant)) / nullif(count(scored_id), 0) AS relevant_share,
       avg(score) FILTER (WHERE is_relevant) AS mean_score,
       stddev_samp(score) FILTER (WHERE is_relevant) AS std_score,
       (count(*) FILTER (WHERE label = 'washington')) / nullif(count(scored_id), 0) AS share_washington,
       (count(*) FILTER (WHERE label = 'hedge')) / nullif(count(scored_id), 0) AS share_hedge,
       (count(*) FILTER (WHERE label = 'beijing')) / nullif(count(scored_id), 0) AS share_beijing,
       (count(*) FILTER (WHERE label = 'irrelevant')) / nullif(count(scored_id), 0) AS share_irrelevant
FROM grouped
GROUP BY group_kind, group_value, week, week_start;
