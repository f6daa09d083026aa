-- Substring search in titles and texts (for words the BM25 tokenizer does not split out, e.g. CJK).
SELECT a.article_id, a.title, a.source_name, a.dated_at, a.language, s.score AS stance, s.label,
       NULL AS rank
FROM stg_articles AS a
JOIN articles AS t USING (article_id)
LEFT JOIN stg_article_scores AS s USING (article_id)
WHERE contains(lower(coalesce(t.title, '')), lower($q)) OR contains(lower(t.text), lower($q))
ORDER BY a.dated_at DESC
LIMIT $limit;
