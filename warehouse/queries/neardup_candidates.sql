-- Band rows whose bucket is one of a signature's ($buckets: its band buckets as decimal text,
-- space-separated; one text parameter binds far faster than a list of Python values). The
-- caller keeps the rows whose band matches too, then reads the originals (originals_by_id).
SELECT band, bucket, article_id
FROM article_bands
WHERE bucket IN (SELECT unnest(string_split($buckets, ' ')::BIGINT[]));
