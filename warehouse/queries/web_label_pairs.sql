-- Passages labelled by two analysts (each analyst's latest label): one row per passage and pair.
SELECT a.article_id, a.ordinal, a.analyst AS analyst_a, a.label AS label_a,
       b.analyst AS analyst_b, b.label AS label_b
FROM stg_labels AS a
JOIN stg_labels AS b ON b.article_id = a.article_id AND b.ordinal = a.ordinal AND a.analyst < b.analyst
ORDER BY analyst_a, analyst_b, a.article_id, a.ordinal;
