-- grain: one row per non-duplicate article scored by the pinned model version (stg_model_version).
-- is_relevant: the article has a stance score (score IS NOT NULL and relevant_share > 0).
-- week / week_start are the article's (see stg_articles: ISO week in axiswatch_tz).
CREATE OR REPLACE VIEW stg_article_scores AS
SELECT s.article_id,
       s.model_version,
       a.source_id,
       a.week,
       a.week_start,
       a.dated_at,
       s.score,
       s.label,
       s.confidence,
       s.relevant_share,
       s.spread,
       s.n_passages,
       s.evidence_json,
       s.scored_at,
       (s.score IS NOT NULL AND s.relevant_share > 0) AS is_relevant
FROM article_scores AS s
JOIN stg_model_version AS m USING (model_version)
JOIN stg_articles AS a USING (article_id);
