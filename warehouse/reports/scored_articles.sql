-- Relevant articles (with a stance score under the pinned model) dated in the report window,
-- one row per article: the input of the stance index, its bootstrap bands and the movers.
-- $first_week / $last_week: week_start dates (Mondays) of the window, inclusive.
SELECT a.article_id,
       a.source_id,
       a.source_name,
       coalesce(a.country, '(unknown)') AS country,
       coalesce(a.kind, '(unknown)') AS kind,
       CASE WHEN a.country IS NULL THEN '(unknown)' ELSE coalesce(a.affiliation, '(none)') END
           AS affiliation,
       a.week,
       s.score
FROM stg_article_scores AS s
JOIN stg_articles AS a USING (article_id)
WHERE s.is_relevant
  AND a.week_start BETWEEN $first_week AND $last_week
ORDER BY a.week_start, a.article_id;
