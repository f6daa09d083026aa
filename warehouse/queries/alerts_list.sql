-- Alerts with their state (stg_alerts) and delivery tally, newest first; $all: also acknowledged
-- and dismissed ones (else open only); $id: one alert (NULL: every alert).
WITH tally AS (
    SELECT alert_id,
           count(DISTINCT destination) FILTER (WHERE ok) AS delivered,
           count(*) FILTER (WHERE NOT ok) AS failed_attempts
    FROM alert_deliveries
    GROUP BY alert_id
)
SELECT a.alert_id, a.series_kind, a.series_key, a.series_name, a.direction,
       CAST(a.start_day AS VARCHAR) AS start_day, CAST(a.through_day AS VARCHAR) AS through_day,
       a.detected_at, a.model_version,
       a.before_n, a.before_mean, a.before_low, a.before_high,
       a.after_n, a.after_mean, a.after_low, a.after_high,
       a.delta, a.delta_low, a.delta_high, a.strength, a.p_value, a.q_value, a.series_tested, a.fdr,
       a.related_json, a.evidence_json, a.state, a.state_by, a.state_at, a.state_note,
       coalesce(t.delivered, 0) AS delivered, coalesce(t.failed_attempts, 0) AS failed_attempts
FROM stg_alerts AS a
LEFT JOIN tally AS t USING (alert_id)
WHERE ($all OR a.state = 'open') AND ($id IS NULL OR a.alert_id = $id)
ORDER BY a.detected_at DESC, a.strength DESC, a.alert_id;
