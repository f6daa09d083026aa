-- Originals sharing at least one 16-bit band with a simhash: any fingerprint within 3 bits
-- of it must (pigeonhole over 4 bands), so the exact Hamming test runs on few rows.
WITH q AS (SELECT CAST($simhash AS UBIGINT) AS h)
SELECT a.article_id, a.simhash FROM articles a, q
WHERE a.duplicate_of IS NULL AND (
       (a.simhash >> 48) = (q.h >> 48)
    OR ((a.simhash >> 32) & 65535) = ((q.h >> 32) & 65535)
    OR ((a.simhash >> 16) & 65535) = ((q.h >> 16) & 65535)
    OR (a.simhash & 65535) = (q.h & 65535))
ORDER BY a.extracted_at, a.article_id;
