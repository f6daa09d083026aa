-- Upsert the configured sources, all in one statement: their rows are the Arrow table the
-- caller registers as configured_sources. Keeps each source's polling state, re-enables
-- nothing that was disabled. MERGE keeps source_id unique on both backends.
MERGE INTO sources AS s
USING configured_sources AS c
ON s.source_id = c.source_id
WHEN MATCHED THEN UPDATE SET
    name = c.name,
    current_feed_url = CASE WHEN s.feed_url = c.feed_url THEN s.current_feed_url ELSE NULL END,
    etag = CASE WHEN s.feed_url = c.feed_url THEN s.etag ELSE NULL END,
    last_modified = CASE WHEN s.feed_url = c.feed_url THEN s.last_modified ELSE NULL END,
    feed_url = c.feed_url,
    country = c.country,
    language = c.language,
    kind = c.kind,
    affiliation = c.affiliation,
    opinion_only = c.opinion_only,
    config_json = c.config_json,
    active = c.active,
    synced_at = c.synced_at
WHEN NOT MATCHED THEN INSERT (source_id, name, feed_url, country, language, kind, affiliation,
                             opinion_only, config_json, active, synced_at)
    VALUES (c.source_id, c.name, c.feed_url, c.country, c.language, c.kind, c.affiliation,
            c.opinion_only, c.config_json, c.active, c.synced_at);
