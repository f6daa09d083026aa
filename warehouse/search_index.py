"""The full-text index: normalised search texts (article_search) and a BM25 index over them.

``refresh_fts`` (the sink's op of that name) fills ``article_search`` for articles that lack a
search text of the current tokenizer version, then rebuilds ``fts_main_article_search`` when
anything changed. Queries must be tokenised the same way: ``query_terms`` in Python or the
``search_terms`` SQL macro (warehouse/queries/search_macro.sql) in a plain DuckDB session.
"""

from __future__ import annotations

from typing import Any

import duckdb

from warehouse import query
from warehouse.base import WarehouseError
from warehouse.db import insert_rows, load_fts
from warehouse.migrate import is_lake
from warehouse.search_text import TOKENIZER_VERSION, search_text

BATCH = 500
"""Articles tokenised per round trip (bounds memory on a large archive)."""
INDEX_SCHEMA = "fts_main_article_search"


def index_exists(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the BM25 index over article_search has been built."""
    row = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = 'docs'",
        [INDEX_SCHEMA],
    ).fetchone()
    return bool(row and row[0])


def fill_search_texts(con: duckdb.DuckDBPyConnection) -> int:
    """Store the search text of every article without a current one; return how many were written."""
    con.execute(query.text("search_forget_stale"), [TOKENIZER_VERSION])
    written = 0
    while True:
        rows = con.execute(query.text("search_missing"), [BATCH]).fetchall()
        if not rows:
            return written
        batch = [
            {
                "article_id": aid,
                "tokenizer_version": TOKENIZER_VERSION,
                "search_text": search_text(title, text),
            }
            for aid, title, text in rows
        ]
        written += insert_rows(con, "article_search", batch)


def refresh_fts(con: duckdb.DuckDBPyConnection) -> bool:
    """Bring article_search up to date; rebuild the BM25 index if it changed (return whether it was).
    A DuckLake cannot hold the index (its macros and tables): there only the search texts are kept
    and search computes BM25 in SQL (warehouse/queries/search_hits_lake.sql)."""
    if is_lake(con):
        fill_search_texts(con)
        return False
    load_fts(con)
    con.execute(query.text("search_macro"))
    if not fill_search_texts(con) and index_exists(con):
        return False
    con.execute(
        "PRAGMA create_fts_index('article_search', 'article_id', 'search_text', stemmer = 'porter', "
        "stopwords = 'english', ignore = '\\s+', strip_accents = 1, lower = 1, overwrite = 1)"
    )
    return True


class NoIndex(WarehouseError):
    """The BM25 index has not been built yet."""


def ranked_hits(con: duckdb.DuckDBPyConnection, params: dict[str, Any]) -> list[Any]:
    """Articles ranked for ``params['terms']`` (with lang, since, limit): BM25 through the fts index
    on a DuckDB file, through plain SQL on a lake (no stemming); one ranked-results query for both."""
    if is_lake(con):
        hits = "search_hits_lake"
    else:
        load_fts(con)
        if not index_exists(con):
            raise NoIndex("no search index yet (`axiswatch run` builds it after scoring)")
        hits = "search_hits_fts"
    return con.execute(f"WITH {query.text(hits)}\n{query.text('search_articles')}", params).fetchall()
