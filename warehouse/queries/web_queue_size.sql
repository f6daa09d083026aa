-- How many scored passages (pinned model, non-duplicate articles) $analyst has not labelled yet.
SELECT count(*) AS remaining
FROM stg_passage_scores AS p
WHERE NOT EXISTS (
    SELECT 1 FROM labels AS l
    WHERE l.article_id = p.article_id AND l.ordinal = p.ordinal AND l.analyst = $analyst);
