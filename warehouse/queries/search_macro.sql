-- search_terms(q): a query tokenised exactly like article_search.search_text (see
-- warehouse/search_text.py): runs of kana, Hangul or CJK ideographs become overlapping character
-- bigrams, every other word is lower-cased (Python also folds full-width forms with NFKC, which
-- DuckDB lacks; type half-width letters here). Use it from plain DuckDB:
--   SELECT article_id, fts_main_article_search.match_bm25(article_id, search_terms('사드 배치')) AS s
--   FROM article_search WHERE s IS NOT NULL ORDER BY s DESC;
CREATE OR REPLACE MACRO search_terms_dedupe(l) AS list_filter(l, lambda x, i: list_position(l, x) = i);
CREATE OR REPLACE MACRO search_terms(q) AS (
    array_to_string(
        search_terms_dedupe(flatten(list_transform(
            regexp_extract_all(
                lower(nfc_normalize(q)),
                '[\x{3040}-\x{30ff}\x{3130}-\x{318f}\x{3400}-\x{4dbf}\x{4e00}-\x{9fff}\x{ac00}-\x{d7a3}\x{f900}-\x{faff}]+|[^\x{0}-\x{2f}\x{3a}-\x{40}\x{5b}-\x{60}\x{7b}-\x{bf}\x{d7}\x{f7}\x{1680}\x{2000}-\x{206f}\x{2e00}-\x{2e7f}\x{3000}-\x{303f}\x{fe30}-\x{fe4f}\x{ff00}-\x{ff0f}\x{ff1a}-\x{ff20}\x{ff3b}-\x{ff40}\x{ff5b}-\x{ff65}\x{3040}-\x{30ff}\x{3130}-\x{318f}\x{3400}-\x{4dbf}\x{4e00}-\x{9fff}\x{ac00}-\x{d7a3}\x{f900}-\x{faff}]+'
            ),
            lambda t: CASE
                WHEN regexp_matches(t, '^[\x{3040}-\x{30ff}\x{3130}-\x{318f}\x{3400}-\x{4dbf}\x{4e00}-\x{9fff}\x{ac00}-\x{d7a3}\x{f900}-\x{faff}]') AND length(t) > 1
                THEN list_transform(range(1, length(t)), lambda i: substr(t, i, 2))
                ELSE [t] END
        ))),
        ' '
    )
);
