-- Stored alerts that started on or after $since: what a new detection may repeat (flows/alerts/run.py).
SELECT series_kind, series_key, direction, start_day, related_json
FROM alerts
WHERE start_day >= $since;
