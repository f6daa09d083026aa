-- Upsert the configured sources, all in one statement: their rows are the Arrow table the
-- caller registers as configured_sources. Keeps each source's polling state, re-enables
-- nothing that was disabled.
INSERT INTO sources (source_id, name, feed_url, country, language, kind, affiliation,
                     opinion_only, config_json, active, synced_at)
SELECT source_id, name, feed_url, country, language, kind, affiliation,
       opinion_only, config_json, active, synced_at
FROM configured_sources
ON CONFLICT (source_id) DO UPDATE SET
    name = excluded.name,
    current_feed_url = CASE WHEN sources.feed_url = excluded.feed_url
                            THEN sources.current_feed_url ELSE NULL END,
    etag = CASE WHEN sources.feed_url = excluded.feed_url THEN sources.etag ELSE NULL END,
    last_modified = CASE WHEN sources.feed_url = excluded.feed_url
                         THEN sources.last_modified ELSE NULL END,
    feed_url = excluded.feed_url,
    country = excluded.country,
    language = excluded.language,
    kind = excluded.kind,
    affiliation = excluded.affiliation,
    opinion_only = excluded.opinion_only,
    config_json = excluded.config_json,
    active = excluded.active,
    synced_at = excluded.synced_at;
