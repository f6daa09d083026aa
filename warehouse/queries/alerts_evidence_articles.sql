-- The articles of $ids with their strongest passage toward $pole (P($pole) × relevance, among the
-- passages labelled $pole, else any passage): the evidence of an alert (flows/alerts/evidence.py).
WITH ranked AS (
    SELECT p.article_id, p.ordinal, p.text, p.voice_label,
           CASE $pole WHEN 'washington' THEN p.p_washington ELSE p.p_beijing END * p.relevance AS strength,
           p.label = $pole AS on_pole
    FROM (SELECT sp.*, coalesce(to_json(v) ->> 'voice', '(unread)') AS voice_label
          FROM stg_passage_scores AS sp
          JOIN passage_scores AS v
            ON v.article_id = sp.article_id AND v.ordinal = sp.ordinal AND v.model_version = sp.model_version
          WHERE sp.article_id IN (SELECT unnest($ids))) AS p
    QUALIFY row_number() OVER (PARTITION BY p.article_id ORDER BY on_pole DESC, strength DESC, p.ordinal) = 1
)
SELECT a.article_id, a.source_name, a.title, a.canonical_url, CAST(a.dated_local AS DATE) AS day,
       s.score, r.ordinal, r.text, r.voice_label, r.strength
FROM stg_articles AS a
JOIN stg_article_scores AS s USING (article_id)
LEFT JOIN ranked AS r USING (article_id)
WHERE a.article_id IN (SELECT unnest($ids));
