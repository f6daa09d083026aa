-- title: near/exact duplicates
SELECT a.duplicate_kind, a.source_id, left(a.title, 40) AS title, o.source_id AS original_source
FROM articles a JOIN articles o ON o.article_id = a.duplicate_of ORDER BY ALL;
