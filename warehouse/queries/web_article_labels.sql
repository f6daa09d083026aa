-- The latest label of each analyst for each passage of one article.
SELECT ordinal, analyst, label, labelled_at, note
FROM stg_labels
WHERE article_id = $article_id
ORDER BY ordinal, analyst;
