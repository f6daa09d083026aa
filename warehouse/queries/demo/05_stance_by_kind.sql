-- title: stance by outlet kind (latest model, duplicates folded)
SELECT kind, count(*) AS articles, count(score) AS relevant, round(avg(score), 3) AS mean_score,
       count(*) FILTER (WHERE label = 'washington') AS washington,
       count(*) FILTER (WHERE label = 'hedge') AS hedge,
       count(*) FILTER (WHERE label = 'beijing') AS beijing,
       count(*) FILTER (WHERE label = 'irrelevant') AS irrelevant
FROM stg_article_scores JOIN stg_articles USING (article_id) GROUP BY ALL ORDER BY articles DESC;
