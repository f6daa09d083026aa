-- One article with its source, week and its score under the pinned model (NULL columns if unscored).
SELECT a.article_id, a.title, a.author, a.source_id, a.source_name, a.country, a.kind,
       a.affiliation, a.canonical_url, a.language, a.published_at, a.dated_at, a.week,
       s.model_version, s.score, s.label, s.confidence, s.relevant_share, s.spread, s.n_passages,
       s.evidence_json
FROM stg_articles AS a
LEFT JOIN stg_article_scores AS s USING (article_id)
WHERE a.article_id = $article_id;
