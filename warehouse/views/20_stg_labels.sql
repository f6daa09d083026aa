-- grain: one row per (passage, analyst): that analyst's latest label of the passage (article_id,
-- ordinal). Labels are never overwritten; a newer row supersedes an older one here.
CREATE OR REPLACE VIEW stg_labels AS
SELECT *
FROM labels
QUALIFY row_number() OVER (
    PARTITION BY article_id, ordinal, analyst ORDER BY labelled_at DESC, label_id DESC
) = 1;
