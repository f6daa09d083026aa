-- Alerts not yet delivered to each destination of $keys (hashes of the notifier URLs): no ok
-- attempt there and fewer than $attempts failed ones, among alerts detected since $since (a
-- destination added later gets the recent alerts, not the whole history); oldest alert first.
WITH dest AS (SELECT unnest($keys) AS destination),
tries AS (
    SELECT alert_id, destination, count(*) AS attempts, bool_or(ok) AS delivered
    FROM alert_deliveries
    GROUP BY alert_id, destination
)
SELECT d.destination, a.alert_id, a.series_kind, a.series_key, a.series_name, a.direction,
       CAST(a.start_day AS VARCHAR) AS start_day, a.before_n, a.before_mean, a.after_n, a.after_mean,
       a.delta, a.strength, a.q_value, a.evidence_json
FROM alerts AS a
CROSS JOIN dest AS d
LEFT JOIN tries AS t ON t.alert_id = a.alert_id AND t.destination = d.destination
WHERE NOT coalesce(t.delivered, false) AND coalesce(t.attempts, 0) < $attempts
  AND a.detected_at >= $since
ORDER BY a.detected_at, a.alert_id, d.destination;
