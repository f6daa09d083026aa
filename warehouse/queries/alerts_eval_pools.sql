-- Each stance series with at least $n relevant articles and their scores: the pools `alerts eval`
-- replays (flows/alerts/evaluate.py).
SELECT series_kind, series_key, list(score ORDER BY score, article_id) AS scores
FROM stg_series_articles
GROUP BY series_kind, series_key
HAVING count(*) >= $n
ORDER BY series_kind, series_key;
