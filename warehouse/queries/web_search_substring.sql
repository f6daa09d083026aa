-- Substring search in titles and texts (the fallback when the BM25 index is missing or ranks
-- nothing), most relevant first: a title match, then the most occurrences in the text, then newest.
SELECT a.article_id, a.title, a.source_name, a.dated_at, a.language, s.score AS stance, s.label,
       NULL AS rank
FROM stg_articles AS a
JOIN articles AS t USING (article_id)
LEFT JOIN stg_article_scores AS s USING (article_id)
WHERE contains(lower(coalesce(t.title, '')), lower($q)) OR contains(lower(t.text), lower($q))
ORDER BY contains(lower(coalesce(t.title, '')), lower($q)) DESC,
         (length(t.text) - length(replace(lower(t.text), lower($q), ''))) // greatest(length($q), 1) DESC,
         a.dated_at DESC
LIMIT $limit;
