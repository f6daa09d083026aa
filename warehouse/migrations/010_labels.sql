-- 010: analyst labels given in `axiswatch web`. Rows are never updated or deleted: a newer
-- label of the same passage by the same analyst supersedes the older one (view stg_labels).
-- one row per label given (passage, analyst, time)
CREATE TABLE labels (
    label_id        VARCHAR PRIMARY KEY,            -- made by the client (uuid): a replayed or re-sent write adds nothing twice
    article_id      VARCHAR NOT NULL,
    ordinal         INTEGER NOT NULL,               -- the passage (article_id, ordinal)
    label           VARCHAR NOT NULL CHECK (label IN ('washington', 'hedge', 'beijing', 'irrelevant')),
    analyst         VARCHAR NOT NULL,
    labelled_at     TIMESTAMPTZ NOT NULL,
    note            VARCHAR,
    model_version   VARCHAR,                        -- the model version whose scores were shown
    shown_label     VARCHAR,                        -- the label that model gave the passage
    passage_text    VARCHAR NOT NULL                -- the text as the analyst read it
);
CREATE INDEX labels_passage ON labels (article_id, ordinal);

-- grain: one row per (passage, analyst): that analyst's latest label of the passage (article_id,
-- ordinal). Labels are never overwritten; a newer row supersedes an older one here. (Created with
-- its table here rather than in views/, so an older warehouse's views never meet a missing table.)
CREATE VIEW stg_labels AS
SELECT *
FROM labels
QUALIFY row_number() OVER (
    PARTITION BY article_id, ordinal, analyst ORDER BY labelled_at DESC, label_id DESC
) = 1;
