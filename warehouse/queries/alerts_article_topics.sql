-- (article_id, topic_id, topic name) of the articles $ids: topic attention around an alert.
SELECT t.article_id, t.topic_id, coalesce(tp.name, t.topic_id) AS name
FROM article_topics AS t
LEFT JOIN topics AS tp USING (topic_id)
WHERE t.article_id IN (SELECT unnest($ids));
