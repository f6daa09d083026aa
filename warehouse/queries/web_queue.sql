-- The labelling queue: passages of non-duplicate articles scored by the pinned model that
-- $analyst has not labelled and that are not in $skipped ('article_id:ordinal' keys), filtered by
-- $source (source id), $language (passage language), $topic (topic id) and $predicted (the
-- model's label); each filter is NULL for any. Off-topic passages (the model's label is
-- 'irrelevant', i.e. P(irrelevant) is the highest, or the article as a whole is not relevant) come
-- last with $offtopic = 'last', among the rest with 'include', alone with 'only'. Then what a label
-- would teach the model most: the least confident first (top probability, in steps of 0.05), the
-- closest call between the two most likely labels (smallest margin), the heaviest evidence in the
-- article's current score (|passage score| x relevance, 0 if not evidence).
WITH evidence AS (
    SELECT s.article_id, e.ordinal, max(abs(e.score) * e.weight) AS evidence_weight
    FROM stg_article_scores AS s,
         unnest(from_json(s.evidence_json, '[{"ordinal": "INTEGER", "score": "DOUBLE", "weight": "DOUBLE"}]')) AS t(e)
    GROUP BY s.article_id, e.ordinal
),
ranked AS (
    SELECT p.article_id, p.ordinal, p.label, p.model_version,
           list_sort([p.p_washington, p.p_hedge, p.p_beijing, p.p_irrelevant], 'DESC') AS sorted_p,
           (p.label = 'irrelevant' OR NOT coalesce(s.is_relevant, FALSE)) AS off_topic
    FROM stg_passage_scores AS p
    JOIN stg_articles AS a USING (article_id)
    LEFT JOIN stg_article_scores AS s USING (article_id)
    WHERE ($source IS NULL OR a.source_id = $source)
      AND ($language IS NULL OR coalesce(p.language, a.language) = $language)
      AND ($predicted IS NULL OR p.label = $predicted)
      AND ($topic IS NULL OR EXISTS (
            SELECT 1 FROM article_topics AS t WHERE t.article_id = p.article_id AND t.topic_id = $topic))
)
SELECT r.article_id,
       r.ordinal,
       r.sorted_p[1] AS top_p,
       r.sorted_p[1] - r.sorted_p[2] AS margin,
       coalesce(e.evidence_weight, 0.0) AS evidence_weight,
       r.off_topic
FROM ranked AS r
LEFT JOIN evidence AS e ON e.article_id = r.article_id AND e.ordinal = r.ordinal
WHERE NOT EXISTS (
        SELECT 1 FROM labels AS l
        WHERE l.article_id = r.article_id AND l.ordinal = r.ordinal AND l.analyst = $analyst)
  AND NOT list_contains($skipped, r.article_id || ':' || r.ordinal)
  AND ($offtopic <> 'only' OR r.off_topic)
ORDER BY CASE WHEN $offtopic = 'last' AND r.off_topic THEN 1 ELSE 0 END,
         floor(r.sorted_p[1] * 20), margin, evidence_weight DESC, r.article_id, r.ordinal
LIMIT $limit;
