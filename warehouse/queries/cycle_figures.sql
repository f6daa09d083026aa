-- What a polling cycle since $since did (flows/tools/feed_cycle.py): feed polls, how many
-- answered 304, failed polls, new entries, and articles stored.
SELECT
    (SELECT count(*) FROM feed_fetches WHERE started_at >= $since) AS polls,
    (SELECT count(*) FROM feed_fetches WHERE started_at >= $since AND not_modified) AS not_modified,
    (SELECT count(*) FROM feed_fetches WHERE started_at >= $since AND error_class IS NOT NULL) AS failed,
    (SELECT coalesce(sum(entries_new), 0) FROM feed_fetches WHERE started_at >= $since) AS new_entries,
    (SELECT count(*) FROM articles WHERE extracted_at >= $since) AS articles,
    (SELECT count(*) FROM article_scores WHERE scored_at >= $since) AS scored;
