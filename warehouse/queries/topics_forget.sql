-- Drop the topic tags of the articles $ids (they are about to be tagged again).
DELETE FROM article_topics WHERE list_contains($ids, article_id);
