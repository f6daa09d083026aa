-- Drop search texts made by another tokenizer version ($1: the current one), so they are rebuilt.
DELETE FROM article_search WHERE tokenizer_version <> $1;
