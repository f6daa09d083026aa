"""Article search for the web app: one function, so a CJK-aware search can replace it in one place.

Today: the BM25 index (fts_main_articles, refreshed after every pipeline run) first; when it
finds nothing (no index yet, or a Korean/Chinese word the tokenizer does not split out) a
case-insensitive substring search over titles and texts.
"""

from __future__ import annotations

import duckdb

from flows.web.webdb import Rows
from warehouse.db import WarehouseError, load_fts
from warehouse.query import records

MAX_QUERY = 200


def search_articles(con: duckdb.DuckDBPyConnection, query: str, limit: int = 50) -> Rows:
    """Articles matching ``query``, best first (BM25, else substring)."""
    query = query.strip()[:MAX_QUERY]
    if not query:
        return []
    found = _bm25(con, query, limit)
    return found if found else records(con, "web_search_substring", q=query, limit=limit)


def _bm25(con: duckdb.DuckDBPyConnection, query: str, limit: int) -> Rows:
    """BM25 hits, or [] when the index or the extension is not there."""
    try:
        load_fts(con)
        return records(con, "web_search_bm25", q=query, limit=limit)
    except (duckdb.Error, WarehouseError):
        return []
