-- Stance-shift alerts whose shift started in the report week ($first_day .. $last_day, local days),
-- except those an analyst dismissed: the report's "What moved" block (flows/report/moved.py).
SELECT alert_id, series_name, direction, CAST(start_day AS VARCHAR) AS start_day,
       before_mean, before_low, before_high, before_n, after_mean, after_low, after_high, after_n,
       delta, delta_low, delta_high, strength, q_value, series_tested, state, related_json, evidence_json
FROM stg_alerts
WHERE start_day BETWEEN $first_day AND $last_day AND state <> 'dismissed'
ORDER BY strength DESC, alert_id;
