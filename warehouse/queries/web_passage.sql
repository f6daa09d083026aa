-- One passage with its scores under the pinned model and its article's title, outlet and date.
SELECT p.article_id, p.ordinal, p.text, p.language, p.p_washington, p.p_hedge, p.p_beijing,
       p.p_irrelevant, p.label, p.score, p.model_version, a.title, a.source_name, a.dated_at,
       a.canonical_url, a.author
FROM stg_passage_scores AS p
JOIN stg_articles AS a USING (article_id)
WHERE p.article_id = $article_id AND p.ordinal = $ordinal;
