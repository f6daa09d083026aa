-- The pinned model version, its card, and how much of the (non-duplicate) archive it has scored.
SELECT m.model_version,
       m.pinned_at,
       m.pinned_by,
       m.card_json,
       (SELECT count(*) FROM stg_article_scores) AS scored_articles,
       (SELECT count(*) FROM stg_articles) AS articles
FROM stg_model_version AS m;
