-- The LSH band rows of one original ($buckets: its bucket of every band, in band order, as
-- decimal text, space-separated). No ON CONFLICT (it costs more than the insert): the caller
-- inserts the article row in the same transaction, so no band row of $article_id exists yet.
INSERT INTO article_bands (band, bucket, article_id)
SELECT unnest(range(len(buckets))), unnest(buckets), $article_id
FROM (SELECT string_split($buckets, ' ')::BIGINT[] AS buckets);
