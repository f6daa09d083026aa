"""The weekly trend report: warehouse marts → report.md, a self-contained report.html and PNG charts.

Weeks are ISO weeks in a configurable time zone (default Asia/Seoul). The views bucket by the
DuckDB session variable ``axiswatch_tz``; ``use_timezone`` sets it (bound, validated), so the
same warehouse can be reported in any zone from a read-only connection.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import duckdb

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
from flows.report.stats import Bootstrap
from warehouse import db, session

DEFAULT_TIMEZONE = "Asia/Seoul"
EVIDENCE_PER_POLE = 5
MAX_WEEKS = 104
CHART_PATTERNS = ("stance_*.png", "volume_*.png", "attention*.png")
_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
_CREATE_VIEW = re.compile(r"^CREATE OR REPLACE VIEW (\w+)", re.MULTILINE)


class ReportError(ValueError):
    """The report cannot be drawn as asked (bad week or time zone)."""


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


def parse_week(week: str) -> date:
    """The Monday of an ISO week written '2026-W48', or ReportError."""
    match = _WEEK.match(week.strip())
    if not match:
        raise ReportError(f"week {week!r} is not an ISO week like 2026-W48")
    try:
        return date.fromisocalendar(int(match.group(1)), int(match.group(2)), 1)
    except ValueError:
        raise ReportError(f"week {week!r} does not exist (ISO years have 52 or 53 weeks)") from None


def week_label(day: date) -> str:
    """The ISO week of a date, written '2026-W48'."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def zone(timezone: str) -> ZoneInfo:
    """The IANA time zone, or ReportError naming the bad value."""
    try:
        return ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ReportError(
            f"unknown time zone {timezone!r}; use an IANA name such as Asia/Seoul or UTC"
        ) from None


def current_week(timezone: str = DEFAULT_TIMEZONE, now: datetime | None = None) -> str:
    """The ISO week that ``now`` (default: the current time) falls in, in ``timezone``."""
    moment = now or datetime.now(UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return week_label(moment.astimezone(zone(timezone)).date())


def last_complete_week(timezone: str = DEFAULT_TIMEZONE, now: datetime | None = None) -> str:
    """The last ISO week that has ended by ``now`` in ``timezone`` (the week before the current one)."""
    monday = parse_week(current_week(timezone, now))
    return week_label(monday - timedelta(weeks=1))


def resolve_week(week: str | None, timezone: str = DEFAULT_TIMEZONE, now: datetime | None = None) -> str:
    """The ISO week a report is asked for: None → the last complete week, 'current' → this week,
    else a valid '2026-W48' (ReportError otherwise)."""
    if week is None:
        return last_complete_week(timezone, now)
    if week.strip().lower() == "current":
        return current_week(timezone, now)
    return week_label(parse_week(week))


def week_window(week: str, weeks: int) -> tuple[str, ...]:
    """The ``weeks`` ISO weeks ending with ``week``, oldest first."""
    if not 1 <= weeks <= MAX_WEEKS:
        raise ReportError(f"weeks must be between 1 and {MAX_WEEKS}, not {weeks}")
    monday = parse_week(week)
    return tuple(week_label(monday - timedelta(weeks=i)) for i in range(weeks - 1, -1, -1))


def use_timezone(con: duckdb.DuckDBPyConnection, timezone: str) -> None:
    """Make this connection's views bucket weeks in ``timezone`` (warehouse.session), or ReportError."""
    try:
        session.use_timezone(con, timezone)
    except session.UnknownTimezone as exc:
        raise ReportError(str(exc)) from None


@contextmanager
def _session_timezone(con: duckdb.DuckDBPyConnection, timezone: str) -> Iterator[None]:
    """Set axiswatch_tz for the block and restore the caller's value afterwards."""
    row = con.execute("SELECT getvariable('axiswatch_tz')").fetchone()
    previous = row[0] if row else None
    use_timezone(con, timezone)
    try:
        yield
    finally:
        if previous is None:
            con.execute("RESET VARIABLE axiswatch_tz")
        else:
            con.execute("SET VARIABLE axiswatch_tz = $tz", {"tz": previous})


@contextmanager
def _session_views(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Shadow the stored views with this code's views/*.sql as TEMP views for the block.

    The report then works on a warehouse opened read-only whose stored views are missing or
    older than the code, and always computes with the definitions it was tested with.
    """
    created = []
    try:
        for file in sorted(db.VIEWS_DIR.glob("*.sql")):
            text = file.read_text(encoding="utf-8")
            match = _CREATE_VIEW.search(text)
            if match is None:
                raise ReportError(f"{file.name} does not create a view with CREATE OR REPLACE VIEW")
            name = match.group(1)
            temp = text[: match.start()] + f"CREATE OR REPLACE TEMP VIEW {name}" + text[match.end() :]
            try:
                con.execute(temp)
            except duckdb.CatalogException:
                continue  # its tables come with a migration this (read-only) warehouse has not had yet
            created.append(match.group(1))
        yield
    finally:
        for name in reversed(created):
            con.execute(f"DROP VIEW IF EXISTS temp.main.{name}")


def report_sql(name: str) -> str:
    """The text of warehouse/reports/<name>.sql."""
    path = db.REPORTS_DIR / f"{name}.sql"
    if not path.exists():
        raise ReportError(f"no report query {name!r} in {db.REPORTS_DIR}")
    return path.read_text(encoding="utf-8")


def _rows(con: duckdb.DuckDBPyConnection, name: str, params: dict[str, Any] | None = None) -> list[Any]:
    """Run a report query with bound parameters."""
    return con.execute(report_sql(name), params or {}).fetchall()


def load_report_data(
    con: duckdb.DuckDBPyConnection, week: str, weeks: int, timezone: str, now: datetime
) -> ReportData:
    """Read everything the report shows for ``week`` (the connection's axiswatch_tz must be set)."""
    window = week_window(week, weeks)
    history = week_window(week, max(weeks, BASELINE_WEEKS + 1))
    span = {"first_week": parse_week(history[0]), "last_week": parse_week(week)}
    this = {"week": week}
    monday = parse_week(week)
    evidence = {
        pole: tuple(
            EvidenceRow(*r) for r in _rows(con, "evidence", this | {"pole": pole, "limit": EVIDENCE_PER_POLE})
        )
        for pole in POLES
    }
    model = _rows(con, "model_pin")
    return ReportData(
        week=week,
        weeks=window,
        history=history,
        timezone=timezone,
        week_range=f"{monday:%a %d %b} – {monday + timedelta(days=6):%a %d %b %Y}",
        generated_at=now.astimezone(zone(timezone)),
        totals=Totals(*_rows(con, "totals")[0]),
        scored=tuple(ScoredArticle(*r) for r in _rows(con, "scored_articles", span)),
        volume=tuple(VolumeRow(*r) for r in _rows(con, "source_volume", span)),
        evidence=evidence,
        feed_failures=tuple(FeedFailure(*r) for r in _rows(con, "feed_failures", this)),
        extraction_failures=tuple(ExtractionFailure(*r) for r in _rows(con, "extraction_failures", this)),
        funnel=tuple(FunnelRow(*r) for r in _rows(con, "funnel", this)),
        model=ModelPin(*model[0]) if model else None,
        facts=load_facts(con, week, span, model[0][3] if model else None),
        moved=load_moved(con, monday),
    )


def compose_sections(data: ReportData, chart_dir: Path, boot: Bootstrap) -> list[Section]:
    """Every section of the report, in reading order (charts are written to ``chart_dir``)."""
    return compose(data, chart_dir, boot)


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
    doc = Document(
        f"axiswatch weekly report — {data.week}",
        lead_blocks(data),
        compose_sections(data, directory, boot or Bootstrap()),
    )
    markdown = to_markdown(doc)
    md_path, html_path = directory / "report.md", directory / "report.html"
    _write_text(md_path, markdown)
    _write_text(html_path, to_html(doc))
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
    with _session_timezone(con, timezone), _session_views(con):
        data = load_report_data(con, week, weeks, timezone, now)
    return write_report(data, Path(out_dir), boot)
