-- grain: one row per article that is not a duplicate of another (articles.duplicate_of IS NULL).
-- Source attributes (name, country, kind, affiliation) are joined in; an article whose source
-- row is missing keeps its source_id and gets NULL attributes.
-- dated_at is published_at, or extracted_at when no date was found (then published_at is NULL).
-- Weeks: `week` is the ISO week ('2026-W48', strftime %G-W%V) and `week_start` its Monday, both
-- of dated_at in the time zone held by the DuckDB session variable axiswatch_tz, default
-- 'Asia/Seoul'. Change it per session with: SET VARIABLE axiswatch_tz = 'UTC';
-- (the report sets it from the timezone setting, AXISWATCH_TIMEZONE).
CREATE OR REPLACE VIEW stg_articles AS
WITH dated AS (
    SELECT a.*,
           coalesce(a.published_at, a.extracted_at) AS dated_at,
           timezone(coalesce(getvariable('axiswatch_tz'), 'Asia/Seoul'),
                    coalesce(a.published_at, a.extracted_at)) AS dated_local
    FROM articles AS a
    WHERE a.duplicate_of IS NULL
)
SELECT d.article_id,
       d.source_id,
       coalesce(s.name, d.source_id) AS source_name,
       s.country,
       s.kind,
       s.affiliation,
       d.canonical_url,
       d.url,
       d.title,
       d.author,
       d.language,
       d.published_at,
       d.published_source,
       d.dated_at,
       d.dated_local,
       strftime(d.dated_local, '%G-W%V') AS week,
       CAST(date_trunc('week', d.dated_local) AS DATE) AS week_start,
       d.text_chars,
       d.extraction_method,
       d.extracted_at
FROM dated AS d
LEFT JOIN sources AS s USING (source_id);
