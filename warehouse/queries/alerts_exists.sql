-- Whether an alert is stored. Params: id.
SELECT count(*) FROM alerts WHERE alert_id = $id
