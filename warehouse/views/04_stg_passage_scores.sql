-- grain: one row per passage (article_id, ordinal) of a non-duplicate article, scored by the
-- pinned model version (stg_model_version). relevance = 1 - p_irrelevant.
CREATE OR REPLACE VIEW stg_passage_scores AS
SELECT s.article_id,
       s.ordinal,
       s.model_version,
       a.source_id,
       a.week,
       a.week_start,
       s.p_washington,
       s.p_hedge,
       s.p_beijing,
       s.p_irrelevant,
       1.0 - s.p_irrelevant AS relevance,
       s.label,
       s.score,
       s.encoder,
       s.scored_at,
       p.language,
       p.text
FROM passage_scores AS s
JOIN stg_model_version AS m USING (model_version)
JOIN stg_articles AS a USING (article_id)
LEFT JOIN passages AS p ON p.article_id = s.article_id AND p.ordinal = s.ordinal;
