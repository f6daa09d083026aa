-- One analyst label; nothing happens when a row with this label_id exists (replay, double submit).
INSERT INTO labels (label_id, article_id, ordinal, label, analyst, labelled_at, note,
                    model_version, shown_label, passage_text)
SELECT $label_id, $article_id, $ordinal, $label, $analyst, CAST($labelled_at AS TIMESTAMPTZ), $note,
       $model_version, $shown_label, $passage_text
WHERE NOT EXISTS (SELECT 1 FROM labels WHERE label_id = $label_id);
