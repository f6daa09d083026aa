-- Originals sharing at least one LSH band bucket with a signature's bands ($bands: a list of
-- {band, bucket} structs); the caller checks the estimated resemblance of each candidate.
SELECT DISTINCT a.article_id, a.fingerprint, a.extracted_at
FROM (SELECT unnest($bands, recursive := true)) q
JOIN article_bands b ON b.band = q.band AND b.bucket = q.bucket
JOIN articles a ON a.article_id = b.article_id
WHERE a.duplicate_of IS NULL
ORDER BY a.extracted_at, a.article_id;
