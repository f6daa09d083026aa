-- Kept relevant passages of the articles $ids by voice (kept: top probability at least the pinned
-- card's abstention threshold): (article_id, voice, passages, summed score) for an alert's voices.
WITH threshold AS (
    SELECT coalesce(CAST(json_extract(card_json, '$.abstention.threshold') AS DOUBLE), 0.0) AS t
    FROM stg_model_version
),
kept AS (
    SELECT p.article_id, p.score, coalesce(to_json(v) ->> 'voice', '(unread)') AS voice
    FROM stg_passage_scores AS p
    JOIN passage_scores AS v
      ON v.article_id = p.article_id AND v.ordinal = p.ordinal AND v.model_version = p.model_version
    LEFT JOIN threshold AS t ON TRUE
    WHERE p.article_id IN (SELECT unnest($ids))
      AND p.label <> 'irrelevant'
      AND greatest(p.p_washington, p.p_hedge, p.p_beijing, p.p_irrelevant) >= coalesce(t.t, 0.0)
)
SELECT article_id, voice, count(*) AS passages, sum(score) AS score_sum
FROM kept
GROUP BY article_id, voice;
