-- Record that the articles $ids were tagged by the dictionary with content hash $hash.
UPDATE article_search SET topics_hash = $hash WHERE list_contains($ids, article_id);
