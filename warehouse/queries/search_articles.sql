-- Articles ranked by BM25 over their normalised search text (fts_main_article_search), best first.
-- $terms: the query tokenised like the index (warehouse/search_text.py query_terms);
-- $lang: article language or NULL for all; $since: earliest dated_at or NULL; $limit: rows.
-- Duplicates are folded (stg_articles); the stance is the pinned model's (stg_article_scores).
WITH hits AS (
    SELECT article_id, fts_main_article_search.match_bm25(article_id, $terms) AS bm25
    FROM article_search
)
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
WHERE h.bm25 IS NOT NULL
  AND ($lang IS NULL OR a.language = $lang)
  AND ($since IS NULL OR a.dated_at >= $since)
ORDER BY h.bm25 DESC, h.article_id
LIMIT $limit;
