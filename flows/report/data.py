"""The rows the weekly report reads from the warehouse, and the report's inputs as one object."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import NamedTuple

from flows.report.calendar import current_week
from flows.report.facts import Facts
from flows.report.moved import Moved
from flows.report.stats import provisional

BASELINE_WEEKS = 4
"""Movers and silent sources compare this week with the previous four."""
POLES = ("washington", "beijing", "hedge")


class ScoredArticle(NamedTuple):
    """A relevant scored article in the window (scored_articles.sql)."""

    article_id: str
    source_id: str
    source_name: str
    country: str
    kind: str
    affiliation: str
    week: str
    score: float


class VolumeRow(NamedTuple):
    """Articles of one source in one week (source_volume.sql); week None: no articles in the window."""

    source_id: str
    source_name: str
    active: bool
    week: str | None
    n_articles: int
    n_scored: int
    n_relevant: int


class EvidenceRow(NamedTuple):
    """One evidence passage (evidence.sql)."""

    source_name: str
    day: date
    title: str | None
    url: str
    article_id: str
    ordinal: int
    p_pole: float
    relevance: float
    strength: float
    text: str | None


class FeedFailure(NamedTuple):
    """Failed feed fetches of one source this week (feed_failures.sql)."""

    source_id: str
    source_name: str
    failed: int
    attempts: int
    error_classes: str
    last_error: str | None


class ExtractionFailure(NamedTuple):
    """Failed entries of one source and error class this week (extraction_failures.sql)."""

    source_id: str
    source_name: str
    error_class: str
    entries: int
    gave_up: int
    example_url: str


class FunnelRow(NamedTuple):
    """The coverage funnel of one source this week (funnel.sql)."""

    source_id: str
    source_name: str
    discovered: int
    fetched: int
    extracted: int
    duplicates: int
    scored: int
    failed_entries: int
    feed_fetches: int
    failed_fetches: int


class ModelPin(NamedTuple):
    """The pinned model version (model_pin.sql)."""

    model_version: str
    pinned_at: datetime
    pinned_by: str
    card_json: str | None
    scored_articles: int
    articles: int


class Totals(NamedTuple):
    """What the warehouse holds (totals.sql)."""

    sources: int
    entries: int
    articles: int
    scored: int


@dataclass(frozen=True)
class ReportData:
    """Everything the report shows, as loaded from the warehouse."""

    week: str
    weeks: tuple[str, ...]  # the chart window, oldest first, ending with ``week``
    history: tuple[str, ...]  # the loaded window (chart window, at least baseline + 1 weeks)
    timezone: str
    week_range: str
    generated_at: datetime
    totals: Totals
    scored: tuple[ScoredArticle, ...] = ()
    volume: tuple[VolumeRow, ...] = ()
    evidence: dict[str, tuple[EvidenceRow, ...]] = field(default_factory=dict)
    feed_failures: tuple[FeedFailure, ...] = ()
    extraction_failures: tuple[ExtractionFailure, ...] = ()
    funnel: tuple[FunnelRow, ...] = ()
    model: ModelPin | None = None
    facts: Facts = field(default_factory=Facts)
    moved: tuple[Moved, ...] = ()

    @property
    def in_progress(self) -> str:
        """The week in progress when the report was generated (its numbers are 'so far')."""
        return current_week(self.timezone, self.generated_at)

    def so_far(self, weeks: tuple[str, ...] | list[str]) -> int | None:
        """The position of the week in progress among ``weeks`` (None when it is not shown)."""
        found = [i for i, w in enumerate(weeks) if provisional(w, self.in_progress)]
        return found[0] if found else None

    @property
    def previous(self) -> str | None:
        """The week before the report week."""
        i = self.history.index(self.week)
        return self.history[i - 1] if i > 0 else None

    @property
    def baseline(self) -> tuple[str, ...]:
        """The ``BASELINE_WEEKS`` weeks before the report week."""
        i = self.history.index(self.week)
        return self.history[max(0, i - BASELINE_WEEKS) : i]
