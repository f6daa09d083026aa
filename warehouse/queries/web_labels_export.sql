-- Every analyst's latest label per passage, as dev-set JSON lines: id, label, lang, url, outlet,
-- year, text, why (the note), plus analyst, labelled_at, model_version, article_id, ordinal.
SELECT 'AN-' || l.article_id || '-' || l.ordinal || '-' || l.label_id[1:8] AS id,
       l.label,
       coalesce(p.language, a.language) AS lang,
       a.canonical_url AS url,
       coalesce(s.name, a.source_id) AS outlet,
       CAST(year(coalesce(a.published_at, a.extracted_at)) AS INTEGER) AS year,
       l.passage_text AS text,
       coalesce(l.note, '') AS why,
       l.analyst,
       l.labelled_at,
       l.model_version,
       l.shown_label,
       l.article_id,
       l.ordinal
FROM stg_labels AS l
LEFT JOIN articles AS a USING (article_id)
LEFT JOIN passages AS p ON p.article_id = l.article_id AND p.ordinal = l.ordinal
LEFT JOIN sources AS s ON s.source_id = a.source_id
ORDER BY l.labelled_at, l.label_id;
