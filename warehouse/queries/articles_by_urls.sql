-- The article stored under each of some canonical URLs ($urls), where there is one.
SELECT canonical_url, article_id FROM articles WHERE canonical_url IN (SELECT unnest($urls));
