"""Per-article facts the analyst sections read: every article (relevant or not) with its language,
its topics, candidate evidence passages, the model card and whether the dates are synthetic."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from typing import Any, NamedTuple

import duckdb

from warehouse import query

REPORTS = "reports"  # warehouse/reports/*.sql

DEMO_MARKER = "axiswatch-demo: synthetic publication dates"
"""Written into the demo's sources.toml (`notes`); the report then says the dates are synthetic."""


class ArticleFact(NamedTuple):
    """One non-duplicate article of the window (article_facts.sql)."""

    article_id: str
    source_id: str
    source_name: str
    country: str
    kind: str
    language: str
    week: str
    scored: bool
    relevant: bool
    score: float | None


class TopicTag(NamedTuple):
    """One topic of an article (article_topic_tags.sql)."""

    article_id: str
    topic_id: str
    topic_name: str
    position: int


@dataclass(frozen=True)
class Candidate:
    """A passage that may be quoted as evidence (evidence_candidates.sql)."""

    source_id: str
    source_name: str
    day: date
    language: str | None
    title: str | None
    url: str
    text: str
    article_id: str
    ordinal: int
    label: str
    probs: dict[str, float]
    voice: str | None = None

    @property
    def confidence(self) -> float:
        """The model's top probability for this passage."""
        return max(self.probs.values())

    @property
    def strength(self) -> float:
        """P(label) × relevance (relevance = 1 − P(irrelevant))."""
        return self.probs[self.label] * (1.0 - self.probs["irrelevant"])


@dataclass(frozen=True)
class Facts:
    """What the analyst sections need beyond ReportData."""

    articles: tuple[ArticleFact, ...] = ()
    topics: tuple[TopicTag, ...] = ()
    candidates: tuple[Candidate, ...] = ()
    card: dict[str, Any] = field(default_factory=dict)
    synthetic_dates: bool = False


def _candidate(row: dict[str, Any]) -> Candidate:
    """A Candidate from one evidence_candidates row (columns by name)."""
    probs = {k: float(row[f"p_{k}"]) for k in ("washington", "hedge", "beijing", "irrelevant")}
    return Candidate(
        row["source_id"],
        row["source_name"],
        row["day"],
        row["passage_language"],
        row["title"],
        row["canonical_url"],
        row["text"] or "",
        row["article_id"],
        row["ordinal"],
        row["label"],
        probs,
        row.get("voice"),
    )


def _candidates(con: duckdb.DuckDBPyConnection, week: str) -> tuple[Candidate, ...]:
    """Every candidate evidence passage of the week."""
    return tuple(map(_candidate, query.dicts(con, "evidence_candidates", {"week": week}, kind=REPORTS)))


def load_facts(
    con: duckdb.DuckDBPyConnection, week: str, span: dict[str, date], card_json: str | None
) -> Facts:
    """Read the facts of the window ``span`` (first_week/last_week Mondays) and the report week."""
    articles = tuple(ArticleFact(*r) for r in query.rows(con, "article_facts", span, kind=REPORTS))
    topics: tuple[TopicTag, ...] = ()
    if query.has_table(con, "article_topics"):  # an older warehouse may lack the topic tables
        topics = tuple(TopicTag(*r) for r in query.rows(con, "article_topic_tags", span, kind=REPORTS))
    marked = query.one(con, "demo_marker", {"marker": DEMO_MARKER}, kind=REPORTS)
    try:
        card = json.loads(card_json) if card_json else {}
    except ValueError:
        card = {}
    return Facts(
        articles,
        topics,
        _candidates(con, week),
        card if isinstance(card, dict) else {},
        bool(marked and marked[0]),
    )
