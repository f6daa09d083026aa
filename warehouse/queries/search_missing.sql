-- Articles without a search text yet (at most $1), with the fields the search text is made of.
SELECT a.article_id, a.title, a.text
FROM articles AS a
ANTI JOIN article_search AS s USING (article_id)
ORDER BY a.article_id
LIMIT $1;
