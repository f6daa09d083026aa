-- Every relevant article of every stance series dated $first .. $last (local days, axiswatch_tz):
-- the input of change-point detection (flows/alerts/series.py), with each series' display name.
SELECT m.series_kind,
       m.series_key,
       CASE m.series_kind
           WHEN 'source' THEN coalesce(any_value(s.name) OVER (PARTITION BY m.series_key), m.series_key)
           WHEN 'topic' THEN coalesce(any_value(t.name) OVER (PARTITION BY m.series_key), m.series_key)
           ELSE m.series_key END AS series_name,
       m.article_id,
       m.day,
       m.score
FROM stg_series_articles AS m
LEFT JOIN sources AS s ON m.series_kind = 'source' AND s.source_id = m.series_key
LEFT JOIN topics AS t ON m.series_kind = 'topic' AND t.topic_id = m.series_key
WHERE m.day BETWEEN $first AND $last
ORDER BY m.series_kind, m.series_key, m.day, m.article_id;
