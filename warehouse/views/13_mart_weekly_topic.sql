-- grain: one row per (topic_id, week) with at least one non-duplicate article tagged with the
-- topic (article_topics, seeds/topics.toml) dated in that ISO week (axiswatch_tz, see stg_articles).
-- n_articles: tagged articles; n_scored / n_relevant: of those, scored by the pinned model / with a
-- stance score; article_share: n_articles over all articles of the week; relevant_share: n_relevant
-- over all relevant articles of the week (the topic's part of on-axis attention); mean_score and
-- label counts over the tagged relevant articles. An article with several topics counts in each.
CREATE OR REPLACE VIEW mart_weekly_topic AS
WITH week_totals AS (
    SELECT a.week,
           count(*) AS week_articles,
           count(*) FILTER (WHERE s.is_relevant) AS week_relevant
    FROM stg_articles AS a
    LEFT JOIN stg_article_scores AS s USING (article_id)
    GROUP BY a.week
),
tagged AS (
    SELECT t.topic_id, a.article_id, a.week, a.week_start,
           s.article_id AS scored_id, s.score, s.label, coalesce(s.is_relevant, false) AS is_relevant
    FROM article_topics AS t
    JOIN stg_articles AS a USING (article_id)
    LEFT JOIN stg_article_scores AS s USING (article_id)
)
SELECT g.topic_id,
       coalesce(tp.name, g.topic_id) AS topic_name,
       g.week,
       g.week_start,
       count(*) AS n_articles,
       count(g.scored_id) AS n_scored,
       count(*) FILTER (WHERE g.is_relevant) AS n_relevant,
       count(*) / any_value(w.week_articles) AS article_share,
       (count(*) FILTER (WHERE g.is_relevant)) / nullif(any_value(w.week_relevant), 0) AS relevant_share,
       avg(g.score) FILTER (WHERE g.is_relevant) AS mean_score,
       count(*) FILTER (WHERE g.is_relevant AND g.label = 'washington') AS n_washington,
       count(*) FILTER (WHERE g.is_relevant AND g.label = 'hedge') AS n_hedge,
       count(*) FILTER (WHERE g.is_relevant AND g.label = 'beijing') AS n_beijing
FROM tagged AS g
JOIN week_totals AS w USING (week)
LEFT JOIN topics AS tp USING (topic_id)
GROUP BY g.topic_id, tp.name, g.week, g.week_start;
