"""Article search for the web app: the `search` command's ranking (BM25 over the normalised search
text, CJK bigrams included; warehouse/search_index.py), each hit with its best-matching passage.

A case-insensitive substring search over titles and texts is the fallback when the index is not
built yet or ranks nothing; its hits show the first passage that contains the query.
"""

from __future__ import annotations

from typing import Any

import duckdb

from flows.cli.search import Passage, best_passage, match_count
from flows.report.evidence import excerpt, split_title
from flows.web.webdb import Rows
from warehouse.db import WarehouseError
from warehouse.query import records, rows
from warehouse.search_index import ranked_hits
from warehouse.search_text import query_terms

MAX_QUERY = 200
WINDOW = 280
"""Characters of the matching passage shown under a hit."""


def search_articles(con: duckdb.DuckDBPyConnection, query: str, limit: int = 50) -> Rows:
    """Articles matching ``query``, most relevant first, each with its matching passage."""
    query = query.strip()[:MAX_QUERY]
    if not query:
        return []
    found = _ranked(con, query, limit)
    if not found:
        found = records(con, "web_search_substring", q=query, limit=limit)
    passages = _passages(con, [r["article_id"] for r in found])
    terms = query_terms(query).split()
    for r in found:
        mine = passages.get(r["article_id"], [])
        best = best_passage(terms, mine) if terms else None
        if best is not None and not match_count(terms, best.text):
            best = None  # only the title matched: no passage to show
        if r.get("rank") is None:  # a substring hit: the first passage that contains the query
            best = next((p for p in mine if query.lower() in p.text.lower()), best)
        r["passage"] = around(split_title(best.text, r.get("title"))[0], [*terms, query]) if best else ""
        r["passage_label"] = best.label if best else None
    return found


def around(text: str, words: list[str], width: int = WINDOW) -> str:
    """``width`` characters of ``text`` around the first of ``words`` it contains (case-insensitive)."""
    line = " ".join(text.split())
    low = line.lower()
    places = [i for i in (low.find(w.lower()) for w in words if w) if i >= 0]
    if len(line) <= width or not places:
        return excerpt(line)
    start = max(0, min(places) - width // 4)
    if start:
        start = line.rfind(" ", 0, start) + 1
    cut = line[start : start + width]
    return ("… " if start else "") + cut + (" …" if start + width < len(line) else "")


def _ranked(con: duckdb.DuckDBPyConnection, query: str, limit: int) -> Rows:
    """BM25 hits, best first, or [] when there is no index or no searchable word."""
    terms = query_terms(query)
    if not terms:
        return []
    try:
        hits = ranked_hits(con, {"terms": terms, "lang": None, "since": None, "limit": limit})
    except (duckdb.Error, WarehouseError):
        return []
    keys = ("article_id", "rank", "dated_at", "source_name", "language", "title", "url", "label", "stance")
    return [dict(zip(keys, h, strict=True)) for h in hits]


def _passages(con: duckdb.DuckDBPyConnection, ids: list[str]) -> dict[str, list[Passage]]:
    """The passages of the hit articles, by article."""
    out: dict[str, list[Passage]] = {}
    if not ids:
        return out
    found: list[Any] = rows(con, "search_passages", {"ids": ids})
    for aid, ordinal, text, label, score in found:
        out.setdefault(aid, []).append(Passage(ordinal, text, label, score))
    return out
