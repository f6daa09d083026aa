-- The strongest evidence passages of one pole ($pole) among articles dated in week $week:
-- passages labelled $pole, ranked by P($pole) * relevance (relevance = 1 - P(irrelevant)).
SELECT a.source_name,
       CAST(a.dated_local AS DATE) AS day,
       a.title,
       a.canonical_url,
       p.article_id,
       p.ordinal,
       CASE $pole WHEN 'washington' THEN p.p_washington
                  WHEN 'beijing' THEN p.p_beijing
                  ELSE p.p_hedge END AS p_pole,
       p.relevance,
       p_pole * p.relevance AS strength,
       p.text
FROM stg_passage_scores AS p
JOIN stg_articles AS a USING (article_id)
WHERE a.week = $week AND p.label = $pole
ORDER BY strength DESC, p.article_id, p.ordinal
LIMIT $limit;
