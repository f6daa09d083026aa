-- The `hits` of search_articles.sql from the fts index: (article_id, bm25) of every article whose
-- normalised search text (fts_main_article_search) matches $terms (the query tokenised like the
-- index: warehouse/search_text.py query_terms).
hits AS (
    SELECT article_id, bm25
    FROM (
        SELECT article_id, fts_main_article_search.match_bm25(article_id, $terms) AS bm25
        FROM article_search
    )
    WHERE bm25 IS NOT NULL
)
