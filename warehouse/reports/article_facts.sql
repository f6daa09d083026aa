-- One row per non-duplicate article dated in the window ($first_week / $last_week: Mondays,
-- inclusive), relevant or not: outlet attributes, language, and the pinned model's verdict
-- (scored, relevant, score; NULL score when unscored or not relevant). Input of attention
-- shares, the language breakdown and the outlet league table.
SELECT a.article_id,
       a.source_id,
       a.source_name,
       coalesce(a.country, '(unknown)') AS country,
       coalesce(a.kind, '(unknown)') AS kind,
       coalesce(a.language, '(unknown)') AS language,
       a.week,
       s.article_id IS NOT NULL AS scored,
       coalesce(s.is_relevant, false) AS relevant,
       CASE WHEN s.is_relevant THEN s.score END AS score
FROM stg_articles AS a
LEFT JOIN stg_article_scores AS s USING (article_id)
WHERE a.week_start BETWEEN $first_week AND $last_week
ORDER BY a.week_start, a.article_id;
