-- The newest labels (every row, superseded ones included), with the passage's article title.
SELECT l.label_id, l.article_id, l.ordinal, l.label, l.analyst, l.labelled_at, l.note,
       l.model_version, l.shown_label, l.passage_text, a.title,
       (s.label_id IS NULL) AS superseded
FROM labels AS l
LEFT JOIN articles AS a USING (article_id)
LEFT JOIN stg_labels AS s ON s.label_id = l.label_id
ORDER BY l.labelled_at DESC, l.label_id
LIMIT $limit;
