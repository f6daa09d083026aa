-- Every passage of one article in order, with its scores under the pinned model (every column of
-- passage_scores, so a newer model's extra columns such as voice come along when they exist).
SELECT p.ordinal AS passage_ordinal, p.start_char, p.end_char, p.language AS passage_language,
       p.text AS passage_text, s.*
FROM passages AS p
LEFT JOIN (
    SELECT ps.* FROM passage_scores AS ps JOIN stg_model_version USING (model_version)
) AS s ON s.article_id = p.article_id AND s.ordinal = p.ordinal
WHERE p.article_id = $article_id
ORDER BY p.ordinal;
