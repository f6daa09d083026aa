"""`axiswatch search`: articles ranked by BM25 over the normalised search text, each with its
best-matching passage and that passage's stance under the pinned (latest) model."""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import duckdb

from flows.cli.common import EXIT_FAILED, EXIT_OK
from flows.cli.sql import render
from flows.report.evidence import split_title
from flows.settings import Settings
from warehouse import query as named
from warehouse.db import Location, WarehouseError, reader
from warehouse.search_index import NoIndex, ranked_hits
from warehouse.search_text import query_terms, tokens

COLUMNS = (
    "rank",
    "bm25",
    "date",
    "outlet",
    "lang",
    "title",
    "article_stance",
    "passage",
    "passage_stance",
    "url",
)
PASSAGE_CHARS = 200


class SearchError(ValueError):
    """The search cannot run as asked (empty query, no index, bad date)."""


@dataclass(frozen=True)
class Passage:
    """One passage of a hit, with its stance (label, score) when scored."""

    ordinal: int
    text: str
    label: str | None
    score: float | None


def parse_since(value: str | None, timezone: str) -> datetime | None:
    """'2026-11-01' → midnight of that day in ``timezone`` (None stays None)."""
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise SearchError(f"--since {value!r} is not a date like 2026-11-01") from None
    return datetime.combine(day, time(), ZoneInfo(timezone))


def match_count(query: list[str], passage: str) -> int:
    """How many distinct query tokens occur in the passage (a word may carry a suffix: tariff~tariffs)."""
    have = set(tokens(passage))
    return sum(1 for q in set(query) if q in have or any(t.startswith(q) for t in have))


def best_passage(query: list[str], passages: list[Passage]) -> Passage | None:
    """The passage matching most query tokens (on ties: one with a stance, then the earliest); None
    when there are no passages."""
    if not passages:
        return None
    return max(
        passages, key=lambda p: (match_count(query, p.text), p.label not in (None, "irrelevant"), -p.ordinal)
    )


def _stance(label: str | None, score: float | None) -> str:
    """'beijing −0.62', or '' when unscored."""
    return "" if label is None else f"{label} {score:+.2f}" if score is not None else label


def _excerpt(text: str) -> str:
    """A passage cut to ``PASSAGE_CHARS`` characters."""
    clean = " ".join(text.split())
    return clean if len(clean) <= PASSAGE_CHARS else clean[: PASSAGE_CHARS - 1] + "…"


def _passages(con: duckdb.DuckDBPyConnection, ids: list[str]) -> dict[str, list[Passage]]:
    """The passages of the hit articles, by article."""
    out: dict[str, list[Passage]] = {i: [] for i in ids}
    for aid, ordinal, text, label, score in named.rows(con, "search_passages", {"ids": ids}):
        out[aid].append(Passage(ordinal, text, label, score))
    return out


def search_rows(
    con: duckdb.DuckDBPyConnection,
    query: str,
    *,
    lang: str | None = None,
    since: datetime | None = None,
    limit: int = 10,
) -> list[tuple[Any, ...]]:
    """Ranked hits as rows of ``COLUMNS`` on an open connection (fts loaded here)."""
    terms = query_terms(query)
    if not terms:
        raise SearchError(f"the query {query!r} has no searchable words")
    params = {"terms": terms, "lang": lang, "since": since, "limit": limit}
    try:
        hits = ranked_hits(con, params)
    except NoIndex as exc:
        raise SearchError(str(exc)) from None
    passages = _passages(con, [h[0] for h in hits])
    rows = []
    for rank, (aid, bm25, day, outlet, language, title, url, label, score) in enumerate(hits, 1):
        best = best_passage(terms.split(), passages[aid])
        rows.append(
            (
                rank,
                round(bm25, 3),
                day,
                outlet,
                language,
                title,
                _stance(label, score),
                _excerpt(split_title(best.text, title)[0]) if best else "",
                _stance(best.label, best.score) if best else "",
                url,
            )
        )
    return rows


def search(
    db_path: Location,
    query: str,
    *,
    lang: str | None = None,
    since: str | None = None,
    limit: int = 10,
    timezone: str = "Asia/Seoul",
) -> list[tuple[Any, ...]]:
    """Ranked hits from the warehouse file, opened read-only."""
    start = parse_since(since, timezone)
    try:
        with reader(db_path) as con:
            return search_rows(con, query, lang=lang, since=start, limit=limit)
    except (WarehouseError, duckdb.Error) as exc:
        raise SearchError(str(exc)) from exc


def command(args: argparse.Namespace, settings: Settings) -> int:
    """`axiswatch search`: articles ranked for a query (any language), with the best passage's stance."""
    try:
        rows = search(
            settings.location,
            args.query,
            lang=args.lang,
            since=args.since,
            limit=args.limit,
            timezone=settings.timezone,
        )
    except SearchError as exc:
        print(f"axiswatch search: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print(render(COLUMNS, rows, "json" if args.json else args.format))
    return EXIT_OK


def register(sub: Any, with_json: argparse.ArgumentParser) -> None:
    """Add `axiswatch search`."""
    p = sub.add_parser(
        "search", parents=[with_json], help="ranked full-text search (English, Korean, Chinese)"
    )
    p.add_argument("query", help="words to look for, in any language")
    p.add_argument("--lang", help="only articles in this language (en, ko, zh, ...)")
    p.add_argument("--since", help="only articles dated on or after this day (YYYY-MM-DD)")
    p.add_argument("--limit", type=int, default=10, help="articles to show (default 10)")
    p.add_argument("--format", choices=("table", "csv", "json"), default="table", help="--json: same as json")
    p.set_defaults(func=command)
