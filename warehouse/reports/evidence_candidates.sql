-- Candidate evidence: every passage labelled washington, hedge or beijing by the pinned model in
-- a relevant article dated in week $week, with the article's outlet, date, language, title and
-- link. ps.* brings every passage_scores column (the four probabilities, label, score, and
-- `voice` where the warehouse has it); the report keeps one confident passage per article.
SELECT a.source_id,
       a.source_name,
       CAST(a.dated_local AS DATE) AS day,
       coalesce(p.language, a.language) AS passage_language,
       a.title,
       a.canonical_url,
       p.text,
       ps.*
FROM passage_scores AS ps
JOIN stg_model_version AS m USING (model_version)
JOIN stg_articles AS a USING (article_id)
JOIN stg_article_scores AS s USING (article_id)
JOIN passages AS p USING (article_id, ordinal)
WHERE a.week = $week
  AND s.is_relevant
  AND ps.label IN ('washington', 'hedge', 'beijing')
ORDER BY ps.article_id, ps.ordinal;
