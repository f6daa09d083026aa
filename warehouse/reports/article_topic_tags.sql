-- One row per (article, topic) for non-duplicate articles dated in the window ($first_week /
-- $last_week: Mondays, inclusive), with the topic's display name and dictionary position.
SELECT t.article_id, t.topic_id, coalesce(tp.name, t.topic_id) AS topic_name, coalesce(tp.position, 999) AS position
FROM article_topics AS t
JOIN stg_articles AS a USING (article_id)
LEFT JOIN topics AS tp USING (topic_id)
WHERE a.week_start BETWEEN $first_week AND $last_week
ORDER BY t.article_id, position;
