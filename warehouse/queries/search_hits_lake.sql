-- The `hits` of search_articles.sql on a DuckLake, which cannot hold the fts index: the same
-- BM25 (k1 = 1.2, b = 0.75) computed here over article_search's tokens (its normalised text split
-- on spaces). Unlike the fts index there is no stemming and no stop-word list: "tariff" does not
-- match "tariffs".
q AS (
    SELECT DISTINCT unnest(string_split($terms, ' ')) AS term
),
docs AS (
    SELECT article_id, string_split(search_text, ' ') AS toks FROM article_search
),
stats AS (
    SELECT count(*) AS n, avg(len(toks)) AS avgdl FROM docs
),
tf AS (
    SELECT d.article_id, q.term, len(list_filter(d.toks, t -> t = q.term)) AS f, len(d.toks) AS dl
    FROM docs AS d CROSS JOIN q
),
df AS (
    SELECT term, count(*) FILTER (WHERE f > 0) AS nq FROM tf GROUP BY term
),
hits AS (
    SELECT tf.article_id,
           sum(ln(1 + (s.n - df.nq + 0.5) / (df.nq + 0.5))
               * tf.f * 2.2 / (tf.f + 1.2 * (0.25 + 0.75 * tf.dl / s.avgdl))) AS bm25
    FROM tf JOIN df USING (term) CROSS JOIN stats AS s
    WHERE tf.f > 0
    GROUP BY tf.article_id
)
