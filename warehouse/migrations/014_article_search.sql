-- one row per article: its normalised search text (warehouse/search_text.py), the input of the
-- full-text index fts_main_article_search. CJK runs are stored as character bigrams and other
-- words lower-cased, so Chinese and Korean (with attached particles) can be matched.
CREATE TABLE article_search (
    article_id        VARCHAR PRIMARY KEY,
    tokenizer_version VARCHAR NOT NULL,
    search_text       VARCHAR NOT NULL,
    topics_hash       VARCHAR                 -- topic dictionary that last tagged it (migration 015)
);
