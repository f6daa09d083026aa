-- What the warehouse holds at all: sources, entries, non-duplicate articles, scored articles.
SELECT (SELECT count(*) FROM sources) AS sources,
       (SELECT count(*) FROM entries) AS entries,
       (SELECT count(*) FROM stg_articles) AS articles,
       (SELECT count(*) FROM stg_article_scores) AS scored;
