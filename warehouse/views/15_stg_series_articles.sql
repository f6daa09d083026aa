-- grain: one row per (series_kind, series_key, article_id): a relevant article's contribution to a
-- stance series. series_kind is 'all' (series_key 'all'), 'source' (source_id), 'country', 'kind',
-- 'language' (the outlet group: the source's attribute; the article's language when the source row
-- is missing; '(unknown)' else), 'topic' (topic_id of article_topics) or 'voice' (passage voice).
-- Only non-duplicate articles scored by the pinned model with a stance score (is_relevant) count:
-- duplicates are folded and abstaining articles (no score) are left out, as in the weekly report.
-- score: the article score (relevance-weighted mean of its confident passages, models/aggregate.py);
-- for 'voice' the same weighting over the article's passages of that voice only: relevant
-- (label not irrelevant) and kept (top probability >= the pinned card's abstention.threshold).
-- day: dated_at's calendar date in axiswatch_tz; week / week_start as in stg_articles.
CREATE OR REPLACE VIEW stg_series_articles AS
WITH rel AS (
    SELECT a.article_id, a.source_id, a.country, a.kind,
           coalesce(src.language, a.language, '(unknown)') AS language,
           CAST(a.dated_local AS DATE) AS day, a.week, a.week_start, s.score
    FROM stg_article_scores AS s
    JOIN stg_articles AS a USING (article_id)
    LEFT JOIN sources AS src ON src.source_id = a.source_id
    WHERE s.is_relevant
),
threshold AS (
    SELECT coalesce(CAST(json_extract(card_json, '$.abstention.threshold') AS DOUBLE), 0.0) AS t
    FROM stg_model_version
),
passages AS (
    SELECT p.article_id, p.score, p.relevance,
           coalesce(to_json(v) ->> 'voice', '(unread)') AS voice
    FROM stg_passage_scores AS p
    JOIN passage_scores AS v
      ON v.article_id = p.article_id AND v.ordinal = p.ordinal AND v.model_version = p.model_version
    LEFT JOIN threshold AS t ON TRUE
    WHERE p.label <> 'irrelevant'
      AND greatest(p.p_washington, p.p_hedge, p.p_beijing, p.p_irrelevant) >= coalesce(t.t, 0.0)
      AND p.article_id IN (SELECT article_id FROM rel)
),
voiced AS (
    SELECT article_id, voice, sum(score * relevance) / nullif(sum(relevance), 0) AS score
    FROM passages
    GROUP BY article_id, voice
)
SELECT 'all' AS series_kind, 'all' AS series_key, article_id, source_id, day, week, week_start, score
FROM rel
UNION ALL
SELECT 'source', source_id, article_id, source_id, day, week, week_start, score FROM rel
UNION ALL
SELECT 'country', coalesce(country, '(unknown)'), article_id, source_id, day, week, week_start, score FROM rel
UNION ALL
SELECT 'kind', coalesce(kind, '(unknown)'), article_id, source_id, day, week, week_start, score FROM rel
UNION ALL
SELECT 'language', language, article_id, source_id, day, week, week_start, score FROM rel
UNION ALL
SELECT 'topic', t.topic_id, r.article_id, r.source_id, r.day, r.week, r.week_start, r.score
FROM rel AS r
JOIN article_topics AS t USING (article_id)
UNION ALL
SELECT 'voice', v.voice, r.article_id, r.source_id, r.day, r.week, r.week_start, v.score
FROM rel AS r
JOIN voiced AS v USING (article_id)
WHERE v.score IS NOT NULL;
