-- Full-text search (BM25 over title and text, the fts index of articles) among non-duplicates.
SELECT a.article_id, a.title, a.source_name, a.dated_at, a.language, s.score AS stance, s.label,
       fts_main_articles.match_bm25(a.article_id, $q) AS rank
FROM stg_articles AS a
LEFT JOIN stg_article_scores AS s USING (article_id)
WHERE rank IS NOT NULL
ORDER BY rank DESC
LIMIT $limit;
