-- Scores of every relevant article: an injected shift substitutes real articles scored toward its
-- pole (> 0 toward Washington, < 0 toward Beijing; flows/alerts/evaluate.py).
SELECT score
FROM stg_series_articles
WHERE series_kind = 'all'
ORDER BY score, article_id;
