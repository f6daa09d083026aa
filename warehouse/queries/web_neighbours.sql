-- The passages just before and after one passage of an article ($radius on each side).
SELECT ordinal, text
FROM passages
WHERE article_id = $article_id AND ordinal BETWEEN $ordinal - $radius AND $ordinal + $radius
ORDER BY ordinal;
