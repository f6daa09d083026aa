-- One analyst action on an alert; nothing happens when a row with this event_id exists (replay).
INSERT INTO alert_events (event_id, alert_id, action, analyst, note, acted_at)
SELECT $event_id, $alert_id, $action, $analyst, $note, CAST($acted_at AS TIMESTAMPTZ)
WHERE NOT EXISTS (SELECT 1 FROM alert_events WHERE event_id = $event_id);
