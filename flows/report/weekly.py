"""The weekly trend report: warehouse marts → report.md, a self-contained report.html and PNG charts.

Weeks are ISO weeks in a configurable time zone (flows/report/calendar.py). The views bucket by
the DuckDB session variable ``axiswatch_tz``, which warehouse/session.py sets for the block (with
this code's view definitions), so the same warehouse can be reported in any zone from a read-only
connection.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from flows.report.calendar import (
    DEFAULT_TIMEZONE,
    ReportError,
    parse_week,
    resolve_week,
    week_range,
    week_window,
    zone,
)
from flows.report.data import (
    BASELINE_WEEKS,
    POLES,
    EvidenceRow,
    ExtractionFailure,
    FeedFailure,
    FunnelRow,
    ModelPin,
    ReportData,
    ScoredArticle,
    Totals,
    VolumeRow,
)
from flows.report.facts import load_facts
from flows.report.layout import compose
from flows.report.moved import load_moved
from flows.report.render import Document, Section, to_html, to_markdown
from flows.report.sections import lead_blocks
from flows.report.stats import Bootstrap, weekly_series
from warehouse import db, query, session

EVIDENCE_PER_POLE = 5
CHART_PATTERNS = ("stance_*.png", "volume_*.png", "attention*.png")
REPORTS = "reports"  # the report's queries: warehouse/reports/*.sql


@dataclass(frozen=True)
class ReportResult:
    """What ``build_report`` wrote: the files and the Markdown text (for a Prefect artifact)."""

    week: str
    directory: Path
    markdown_path: Path
    html_path: Path
    chart_paths: tuple[Path, ...]
    markdown: str
    empty: bool


def load_report_data(
    con: duckdb.DuckDBPyConnection, week: str, weeks: int, timezone: str, now: datetime
) -> ReportData:
    """Read everything the report shows for ``week`` (the connection's axiswatch_tz must be set)."""
    window = week_window(week, weeks)
    history = week_window(week, max(weeks, BASELINE_WEEKS + 1))
    span = {"first_week": parse_week(history[0]), "last_week": parse_week(week)}
    this = {"week": week}
    evidence = {
        pole: tuple(
            EvidenceRow(*r)
            for r in query.rows(
                con, "evidence", this | {"pole": pole, "limit": EVIDENCE_PER_POLE}, kind=REPORTS
            )
        )
        for pole in POLES
    }
    model = query.rows(con, "model_pin", kind=REPORTS)
    return ReportData(
        week=week,
        weeks=window,
        history=history,
        timezone=timezone,
        week_range=week_range(week),
        generated_at=now.astimezone(zone(timezone)),
        totals=Totals(*query.rows(con, "totals", kind=REPORTS)[0]),
        scored=tuple(ScoredArticle(*r) for r in query.rows(con, "scored_articles", span, kind=REPORTS)),
        volume=tuple(VolumeRow(*r) for r in query.rows(con, "source_volume", span, kind=REPORTS)),
        evidence=evidence,
        feed_failures=tuple(FeedFailure(*r) for r in query.rows(con, "feed_failures", this, kind=REPORTS)),
        extraction_failures=tuple(
            ExtractionFailure(*r) for r in query.rows(con, "extraction_failures", this, kind=REPORTS)
        ),
        funnel=tuple(FunnelRow(*r) for r in query.rows(con, "funnel", this, kind=REPORTS)),
        model=ModelPin(*model[0]) if model else None,
        facts=load_facts(con, week, span, model[0][3] if model else None),
        moved=load_moved(con, parse_week(week)),
    )


def compose_sections(data: ReportData, chart_dir: Path, boot: Bootstrap) -> list[Section]:
    """Every section of the report, in reading order (charts are written to ``chart_dir``)."""
    return compose(data, chart_dir, boot)


SERIES_KINDS = ("country", "kind", "affiliation")


def report_numbers(data: ReportData, doc: Document, boot: Bootstrap) -> dict[str, object]:
    """The numbers behind the report (report.json): every level/change sentence with its interval,
    and the index of every group and week by the rules of flows/report/stats.py."""
    series: dict[str, dict[str, dict[str, object]]] = {}
    rows = {"all": [("All outlets", r.week, r.score) for r in data.scored]}
    rows |= {k: [(str(getattr(r, k)), r.week, r.score) for r in data.scored] for k in SERIES_KINDS}
    for kind, found in rows.items():
        estimates = weekly_series(found, data.weeks, boot)
        series[kind] = {
            group: {w: asdict(e) for w, e in zip(data.weeks, ests, strict=True)}
            for group, ests in estimates.items()
        }
    return {
        "week": data.week,
        "weeks": list(data.weeks),
        "in_progress": data.in_progress,
        "timezone": data.timezone,
        "claims": [asdict(c) for c in doc.claims()],
        "series": series,
    }


def _write_text(path: Path, text: str) -> None:
    """Write a file atomically (temp file, then rename)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def write_report(data: ReportData, out_dir: Path, boot: Bootstrap | None = None) -> ReportResult:
    """Compose the report of ``data`` and write it under ``out_dir/<week>/``."""
    directory = out_dir / data.week
    directory.mkdir(parents=True, exist_ok=True)
    for pattern in CHART_PATTERNS:  # charts of an earlier run that this run may not redraw
        for stale in directory.glob(pattern):
            stale.unlink()
    boot = boot or Bootstrap()
    doc = Document(
        f"axiswatch weekly report — {data.week}",
        lead_blocks(data),
        compose_sections(data, directory, boot),
    )
    markdown = to_markdown(doc)
    md_path, html_path = directory / "report.md", directory / "report.html"
    _write_text(md_path, markdown)
    _write_text(html_path, to_html(doc))
    numbers = json.dumps(report_numbers(data, doc, boot), ensure_ascii=False, indent=1, sort_keys=True)
    _write_text(directory / "report.json", numbers + "\n")
    return ReportResult(
        data.week,
        directory,
        md_path,
        html_path,
        tuple(doc.charts()),
        markdown,
        empty=data.totals.articles == 0,
    )


def build_report(
    con_or_path: duckdb.DuckDBPyConnection | db.Location | str,
    week: str | None = None,
    weeks: int = 12,
    *,
    out_dir: Path,
    timezone: str = DEFAULT_TIMEZONE,
    now: datetime | None = None,
    bootstrap: Bootstrap | None = None,
) -> ReportResult:
    """Draw the weekly report of ``week`` (default: the last complete ISO week in ``timezone``;
    'current' for the week in progress)."""
    moment = now or datetime.now(UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    week = resolve_week(week, timezone, moment)
    week_window(week, weeks)  # validate before opening anything
    if isinstance(con_or_path, duckdb.DuckDBPyConnection):
        return _build(con_or_path, week, weeks, out_dir, timezone, moment, bootstrap)
    with db.reader(con_or_path if isinstance(con_or_path, db.Lake) else Path(con_or_path)) as con:
        return _build(con, week, weeks, out_dir, timezone, moment, bootstrap)


def _build(
    con: duckdb.DuckDBPyConnection,
    week: str,
    weeks: int,
    out_dir: Path,
    timezone: str,
    now: datetime,
    boot: Bootstrap | None,
) -> ReportResult:
    """Load and write the report on an open connection, with the time zone set for the session."""
    try:
        with session.session_timezone(con, timezone), session.code_views(con):
            data = load_report_data(con, week, weeks, timezone, now)
    except session.UnknownTimezone as exc:
        raise ReportError(str(exc)) from None
    return write_report(data, Path(out_dir), boot)
