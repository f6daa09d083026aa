-- Articles (duplicates folded) and scored articles per ISO week of publication, last N weeks.
SELECT strftime(timezone($tz, a.published_at), '%G-W%V') AS week,
       count(*) AS articles,
       count(sc.article_id) AS scored
FROM articles a
LEFT JOIN article_scores sc ON sc.article_id = a.article_id AND sc.model_version = $model_version
WHERE a.duplicate_of IS NULL
GROUP BY ALL ORDER BY week DESC LIMIT $weeks;
