-- The passages of the articles $ids with the pinned model's stance of each (NULL when unscored).
SELECT p.article_id, p.ordinal, p.text, s.label, s.score
FROM passages AS p
LEFT JOIN stg_passage_scores AS s USING (article_id, ordinal)
WHERE list_contains($ids, p.article_id)
ORDER BY p.article_id, p.ordinal;
