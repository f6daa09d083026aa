-- title: articles by language and extraction method
SELECT language, extraction_method, count(*) AS articles,
       count(*) FILTER (WHERE duplicate_of IS NOT NULL) AS duplicates
FROM articles GROUP BY ALL ORDER BY articles DESC;
