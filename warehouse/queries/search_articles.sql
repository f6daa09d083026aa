-- Articles ranked by BM25, best first, after the CTEs that compute `hits` (article_id, bm25):
-- search_hits_fts.sql (the fts index) or search_hits_lake.sql (a DuckLake, no index); the
-- caller puts `WITH <hits>` in front (flows/search.py).
-- $lang: article language or NULL for all; $since: earliest dated_at or NULL; $limit: rows.
-- Duplicates are folded (stg_articles); the stance is the pinned model's (stg_article_scores).
SELECT h.article_id,
       h.bm25,
       CAST(a.dated_local AS DATE) AS day,
       a.source_name,
       a.language,
       a.title,
       a.canonical_url,
       s.label AS article_label,
       s.score AS article_score
FROM hits AS h
JOIN stg_articles AS a USING (article_id)
LEFT JOIN stg_article_scores AS s USING (article_id)
WHERE ($lang IS NULL OR a.language = $lang)
  AND ($since IS NULL OR a.dated_at >= $since)
ORDER BY h.bm25 DESC, h.article_id
LIMIT $limit;
