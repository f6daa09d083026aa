-- The labelling queue: passages of non-duplicate articles scored by the pinned model that
-- $analyst has not labelled and that are not in $skipped ('article_id:ordinal' keys), ordered by
-- what a label would teach the model most: the least confident first (top probability, in steps
-- of 0.05), then the closest call between the two most likely labels (smallest margin), then the
-- heaviest evidence in the article's current score (|passage score| x relevance, 0 if not evidence).
WITH evidence AS (
    SELECT s.article_id, e.ordinal, max(abs(e.score) * e.weight) AS evidence_weight
    FROM stg_article_scores AS s,
         unnest(from_json(s.evidence_json, '[{"ordinal": "INTEGER", "score": "DOUBLE", "weight": "DOUBLE"}]')) AS t(e)
    GROUP BY s.article_id, e.ordinal
),
ranked AS (
    SELECT p.article_id, p.ordinal, p.label, p.model_version,
           list_sort([p.p_washington, p.p_hedge, p.p_beijing, p.p_irrelevant], 'DESC') AS sorted_p
    FROM stg_passage_scores AS p
)
SELECT r.article_id,
       r.ordinal,
       r.sorted_p[1] AS top_p,
       r.sorted_p[1] - r.sorted_p[2] AS margin,
       coalesce(e.evidence_weight, 0.0) AS evidence_weight
FROM ranked AS r
LEFT JOIN evidence AS e ON e.article_id = r.article_id AND e.ordinal = r.ordinal
WHERE NOT EXISTS (
        SELECT 1 FROM labels AS l
        WHERE l.article_id = r.article_id AND l.ordinal = r.ordinal AND l.analyst = $analyst)
  AND NOT list_contains($skipped, r.article_id || ':' || r.ordinal)
ORDER BY floor(r.sorted_p[1] * 20), margin, evidence_weight DESC, r.article_id, r.ordinal
LIMIT $limit;
