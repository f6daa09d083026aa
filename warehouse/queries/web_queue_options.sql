-- The values the label queue can be filtered by, as (kind, value, name) rows: sources and
-- passage languages with scored passages under the pinned model, and topics with tagged articles.
SELECT 'source' AS kind, a.source_id AS value, any_value(a.source_name) AS name
FROM stg_passage_scores AS p JOIN stg_articles AS a USING (article_id)
GROUP BY a.source_id
UNION ALL
SELECT 'language', coalesce(p.language, a.language), coalesce(p.language, a.language)
FROM stg_passage_scores AS p JOIN stg_articles AS a USING (article_id)
WHERE coalesce(p.language, a.language) IS NOT NULL
GROUP BY ALL
UNION ALL
SELECT 'topic', t.topic_id, any_value(t.name)
FROM topics AS t JOIN article_topics AS x USING (topic_id)
GROUP BY t.topic_id
ORDER BY kind, name;
