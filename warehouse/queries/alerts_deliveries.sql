-- Every notification attempt of alert $id, oldest first.
SELECT shown_as, ok, error, attempted_at
FROM alert_deliveries
WHERE alert_id = $id
ORDER BY attempted_at, delivery_id;
