-- 020: stance shifts (issue 23). Alerts are never updated or deleted; their analyst state lives in
-- alert_events and their notifications in alert_deliveries, both append-only.
-- one row per alert: a series whose recent level differs from its baseline beyond sampling noise
-- (flows/alerts/detect.py); alert_id is made by the client from (series, direction, start_day)
CREATE TABLE alerts (
    alert_id        VARCHAR PRIMARY KEY,
    series_kind     VARCHAR NOT NULL,               -- all | source | country | kind | language | topic | voice
    series_key      VARCHAR NOT NULL,
    series_name     VARCHAR NOT NULL,
    direction       VARCHAR NOT NULL,               -- washington | beijing (sign of the shift)
    start_day       DATE NOT NULL,                  -- first day of the shifted level (axiswatch_tz)
    through_day     DATE NOT NULL,                  -- last complete day the test saw
    detected_at     TIMESTAMPTZ NOT NULL,
    run_id          BIGINT,
    model_version   VARCHAR,
    before_n        INTEGER NOT NULL,
    before_mean     DOUBLE NOT NULL,
    before_low      DOUBLE,
    before_high     DOUBLE,
    after_n         INTEGER NOT NULL,
    after_mean      DOUBLE NOT NULL,
    after_low       DOUBLE,
    after_high      DOUBLE,
    delta           DOUBLE NOT NULL,
    delta_low       DOUBLE,
    delta_high      DOUBLE,
    strength        DOUBLE NOT NULL,                -- |t| of after vs before (pooled-variance t-test)
    p_value         DOUBLE NOT NULL,                -- scan-corrected (Bonferroni over candidate starts)
    q_value         DOUBLE NOT NULL,                -- Benjamini-Hochberg across the series tested
    series_tested   INTEGER NOT NULL,
    fdr             DOUBLE NOT NULL,                -- the false discovery rate the run controlled
    related_json    VARCHAR NOT NULL,               -- other series the same articles moved
    evidence_json   VARCHAR NOT NULL                -- articles/passages, topics, voices
);

-- one row per analyst action on an alert (ack | dismiss | reopen); the latest one is its state
CREATE TABLE alert_events (
    event_id        VARCHAR PRIMARY KEY,
    alert_id        VARCHAR NOT NULL,
    action          VARCHAR NOT NULL CHECK (action IN ('ack', 'dismiss', 'reopen')),
    analyst         VARCHAR NOT NULL,
    note            VARCHAR,
    acted_at        TIMESTAMPTZ NOT NULL
);

-- one row per notification attempt of one alert to one destination (apprise URL, kept redacted)
CREATE TABLE alert_deliveries (
    delivery_id     VARCHAR PRIMARY KEY,
    alert_id        VARCHAR NOT NULL,
    destination     VARCHAR NOT NULL,               -- sha256 of the URL, first 16 hex
    shown_as        VARCHAR NOT NULL,               -- scheme://host/… without secrets
    ok              BOOLEAN NOT NULL,
    error           VARCHAR,
    attempted_at    TIMESTAMPTZ NOT NULL
);

-- grain: one row per alert: its columns plus state ('open' until an analyst acts: the latest
-- alert_events action, 'reopen' counting as open) and who set it when.
CREATE VIEW stg_alerts AS
WITH latest AS (
    SELECT * FROM alert_events
    QUALIFY row_number() OVER (PARTITION BY alert_id ORDER BY acted_at DESC, event_id DESC) = 1
)
SELECT a.*,
       CASE WHEN l.action IS NULL OR l.action = 'reopen' THEN 'open'
            WHEN l.action = 'ack' THEN 'acknowledged' ELSE 'dismissed' END AS state,
       l.analyst AS state_by,
       l.acted_at AS state_at,
       l.note AS state_note
FROM alerts AS a
LEFT JOIN latest AS l USING (alert_id);
