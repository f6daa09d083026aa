-- Articles of one week (and optionally one group: $group_kind in country/kind/affiliation, value
-- $group_value; '' for all outlets), with their scores under the pinned model, relevant first.
SELECT a.article_id, a.title, a.source_name, a.dated_at, s.score, s.label, s.is_relevant
FROM stg_articles AS a
LEFT JOIN stg_article_scores AS s USING (article_id)
WHERE a.week = $week
  AND ($group_kind = ''
       OR ($group_kind = 'country' AND coalesce(a.country, '(unknown)') = $group_value)
       OR ($group_kind = 'kind' AND coalesce(a.kind, '(unknown)') = $group_value)
       OR ($group_kind = 'affiliation'
           AND (CASE WHEN a.country IS NULL THEN '(unknown)' ELSE coalesce(a.affiliation, '(none)') END)
               = $group_value))
ORDER BY coalesce(s.is_relevant, FALSE) DESC, abs(coalesce(s.score, 0)) DESC, a.dated_at DESC
LIMIT 500;
