-- Originals (not duplicates) with no article_scores row for the model version, after a cursor;
-- a shard ($shard of $shards) takes only its article ids: the first 8 bytes of sha256(article_id)
-- as a big-endian integer, mod $shards (flows.orchestration.fanout.shard_of, in SQL).
SELECT a.article_id, a.text
FROM articles a
WHERE a.duplicate_of IS NULL
  AND a.article_id > $after
  AND ($shards = 1 OR ('0x' || left(sha256(a.article_id), 16))::UBIGINT % $shards = $shard)
  AND NOT EXISTS (SELECT 1 FROM article_scores s
                  WHERE s.article_id = a.article_id AND s.model_version = $model_version)
ORDER BY a.article_id
LIMIT $limit;
