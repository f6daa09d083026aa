-- grain: one row per (country, voice, week): passages of non-duplicate articles scored by the
-- pinned model, grouped by the outlet's country ('(unknown)' without a source row), the passage's
-- voice ('(unread)' for rows scored before voices were stored) and ISO week (axiswatch_tz).
-- E.g. "Beijing-side voices quoted in Korean outlets": country = 'KR' AND voice = 'beijing'.
-- n_passages: all; n_ignored: top probability below the pinned card's abstention threshold
-- (abstention.threshold, 0 when the card has none); n_relevant: kept passages whose label is not
-- irrelevant. mean_score: mean P(washington) - P(beijing) over relevant kept passages;
-- share_<label>: share of kept passages with that top label.
-- The voice is read through to_json(v) so the view also binds on a warehouse that has not yet
-- run migration 004 (there every voice is '(unread)').
CREATE OR REPLACE VIEW mart_weekly_stance_voice AS
WITH threshold AS (
    SELECT coalesce(CAST(json_extract(card_json, '$.abstention.threshold') AS DOUBLE), 0.0) AS t
    FROM stg_model_version
),
base AS (
    SELECT coalesce(a.country, '(unknown)') AS country,
           coalesce(to_json(v) ->> 'voice', '(unread)') AS voice,
           p.week, p.week_start, p.label, p.score,
           greatest(p.p_washington, p.p_hedge, p.p_beijing, p.p_irrelevant) >= coalesce(t.t, 0.0) AS kept
    FROM stg_passage_scores AS p
    JOIN passage_scores AS v USING (article_id, ordinal, model_version)
    LEFT JOIN stg_articles AS a USING (article_id)
    LEFT JOIN threshold AS t ON TRUE
)
SELECT country,
       voice,
       week,
       any_value(week_start) AS week_start,
       count(*) AS n_passages,
       count(*) FILTER (WHERE NOT kept) AS n_ignored,
       count(*) FILTER (WHERE kept AND label <> 'irrelevant') AS n_relevant,
       avg(score) FILTER (WHERE kept AND label <> 'irrelevant') AS mean_score,
       (count(*) FILTER (WHERE kept AND label = 'washington')) / nullif(count(*) FILTER (WHERE kept), 0) AS share_washington,
       (count(*) FILTER (WHERE kept AND label = 'hedge')) / nullif(count(*) FILTER (WHERE kept), 0) AS share_hedge,
       (count(*) FILTER (WHERE kept AND label = 'beijing')) / nullif(count(*) FILTER (WHERE kept), 0) AS share_beijing,
       (count(*) FILTER (WHERE kept AND label = 'irrelevant')) / nullif(count(*) FILTER (WHERE kept), 0) AS share_irrelevant
FROM base
GROUP BY country, voice, week;
