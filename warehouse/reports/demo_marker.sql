-- Active sources whose sources.toml `notes` carry the marker $marker (written by `axiswatch demo`,
-- whose publication dates are synthetic).
SELECT count(*)
FROM sources
WHERE active AND coalesce(json_extract_string(config_json, '$.notes'), '') LIKE '%' || $marker || '%';
