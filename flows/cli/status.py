"""`axiswatch status`: how the pipeline is doing, and whether anything needs attention.

Attention is needed when the last pipeline/ingest run failed (no feed could be polled) or is
too old, when an active source failed on its last poll or is disabled, when a source has been
silent for longer than its expected interval, when spooled writes wait, or when no model exists.

Silence rule: a source's expected interval is twice the 90th percentile of the gaps between its
last 50 distinct entry times (publication time, never later than discovery), and at least twice
the poll interval; a source with fewer than ``MIN_GAPS`` gaps of history is not judged. It is
silent when its newest entry is older than that interval. A source whose publication dates are
synthetic (the demo's marker in its `notes`) is never judged silent.

The text output is a summary first (attention, the last run, sources, articles, model, spool);
the per-source table only with ``--per-source``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from flows.report.facts import DEMO_MARKER
from flows.settings import Settings
from warehouse.db import now_utc, reader
from warehouse.query import records
from warehouse.spool import QUARANTINE, entry_problem

RUN_COLUMNS = [
    "run_id",
    "flow",
    "trigger",
    "started_at",
    "finished_at",
    "outcome",
    "discovered",
    "extracted",
    "scored",
    "failed",
    "message",
]
SOURCE_COLUMNS = [
    "source_id",
    "active",
    "last_polled_at",
    "last_success_at",
    "consecutive_failures",
    "backoff_until",
    "disabled_reason",
    "last_error_class",
    "articles",
    "newest_entry_at",
    "expected_interval_hours",
]
MIN_GAPS = 5


@dataclass
class Status:
    """A snapshot of runs, sources, weekly volumes, the model and what needs attention."""

    runs: list[dict[str, Any]] = field(default_factory=list)
    sources: list[dict[str, Any]] = field(default_factory=list)
    weeks: list[dict[str, Any]] = field(default_factory=list)
    model: dict[str, Any] | None = None
    spooled_files: int = 0
    unreadable: list[dict[str, str]] = field(default_factory=list)
    quarantined: list[dict[str, str]] = field(default_factory=list)
    attention: list[str] = field(default_factory=list)


def collect(settings: Settings, now: datetime | None = None) -> Status:
    """Read the warehouse (read-only) and judge what needs attention."""
    now = now or now_utc()
    sink = settings.sink()
    pending = [(f.name, entry_problem(f)) for f in sink.pending_spool()]
    status = Status(
        spooled_files=sum(problem is None for _, problem in pending),
        unreadable=[{"file": name, "reason": problem} for name, problem in pending if problem],
        quarantined=[{"file": name, "reason": reason} for name, reason in sink.quarantined()],
    )
    with reader(settings.location) as con:
        status.runs = records(con, "status_runs", limit=10)
        status.sources = _with_silence(
            records(con, "status_sources", marker=DEMO_MARKER), records(con, "status_silence"), settings
        )
        models = records(con, "status_model")
        status.model = models[0] if models else None
        version = status.model["model_version"] if status.model else None
        status.weeks = records(con, "status_weeks", tz=settings.timezone, model_version=version, weeks=8)
    status.attention = judge(status, settings, now)
    return status


def expected_interval(p90_gap_seconds: float | None, gaps: int, settings: Settings) -> timedelta | None:
    """How long a source may stay without a new entry (None: too little history to say)."""
    if gaps < MIN_GAPS or p90_gap_seconds is None:
        return None
    floor = 2 * settings.poll_interval_minutes * 60
    return timedelta(seconds=max(2 * p90_gap_seconds, floor))


def _with_silence(
    sources: list[dict[str, Any]], silence: list[dict[str, Any]], settings: Settings
) -> list[dict[str, Any]]:
    """Add each source's newest entry time and expected interval (hours) to its status row."""
    by_id = {row["source_id"]: row for row in silence}
    for s in sources:
        row = by_id.get(s["source_id"], {})
        expected = expected_interval(row.get("p90_gap_seconds"), row.get("gaps", 0), settings)
        s["newest_entry_at"] = row.get("newest_entry_at")
        s["expected_interval_hours"] = round(expected.total_seconds() / 3600, 1) if expected else None
    return sources


def _source_problem(s: dict[str, Any], settings: Settings, now: datetime) -> str | None:
    """What is wrong with one active source, if anything."""
    sid, failures = s["source_id"], s["consecutive_failures"] or 0
    if s["disabled_reason"]:
        return f"source {sid} disabled: {s['disabled_reason']}"
    if failures:
        until = s["backoff_until"]
        when = f", backed off until {until:%Y-%m-%d %H:%M} UTC" if until else ""
        times = "on its last poll" if failures == 1 else f"{failures} times in a row"
        return f"source {sid} failed {times} ({s['last_error_class']}){when}"
    hours, newest = s.get("expected_interval_hours"), s.get("newest_entry_at")
    if s.get("synthetic_dates"):
        return None  # the demo spreads publication dates over 12 weeks: silence is an artefact
    if hours is not None and newest is not None and now - newest > timedelta(hours=hours):
        silent, newest_utc = (now - newest).total_seconds() / 3600, newest.astimezone(UTC)
        return (
            f"source {sid} silent: no new entry for {silent:.1f} h (newest {newest_utc:%Y-%m-%d %H:%M} UTC), "
            f"longer than its expected interval of {hours:.1f} h"
        )
    return None


def judge(status: Status, settings: Settings, now: datetime) -> list[str]:
    """The problems a person should look at (empty when all is well)."""
    problems = []
    pipeline_runs = [r for r in status.runs if r["flow"] in ("pipeline", "ingest")]
    if not pipeline_runs:
        problems.append("no pipeline run recorded yet")
    else:
        last = pipeline_runs[0]
        if last["outcome"] in ("failed", "interrupted"):
            problems.append(
                f"last {last['flow']} run {last['run_id']} {last['outcome']}: {last['message'] or ''}"
            )
        stale_after = timedelta(minutes=max(settings.poll_interval_minutes, 30) * 4)
        if now - last["started_at"] > stale_after:
            problems.append(f"no pipeline run since {last['started_at']:%Y-%m-%d %H:%M} UTC")
    for s in status.sources:
        problem = _source_problem(s, settings, now) if s["active"] else None
        if problem:
            problems.append(problem)
    if status.spooled_files:
        problems.append(f"{status.spooled_files} spool file(s) wait for the warehouse lock to be free")
    problems += [
        f"spool entry {u['file']} cannot be replayed; the next run moves it to quarantine: {u['reason']}"
        for u in status.unreadable
    ]
    problems += quarantine_problems(status.quarantined, settings)
    if status.model is None:
        problems.append("no model version registered: articles are not scored yet")
    return problems


def quarantine_problems(files: list[dict[str, str]], settings: Settings, shown: int = 10) -> list[str]:
    """One line for the count of quarantined spool files, then one per file with its reason."""
    if not files:
        return []
    where = settings.spool_dir / QUARANTINE
    lines = [
        f"{len(files)} spool file(s) quarantined in {where}: their writes were not applied "
        f"(move a file back to {settings.spool_dir} to retry it once its reason is dealt with)"
    ]
    lines += [f"quarantined spool file {f['file']}: {f['reason']}" for f in files[:shown]]
    if len(files) > shown:
        lines.append(f"... and {len(files) - shown} more quarantined spool file(s), see their .reason files")
    return lines


CELL = 40
"""Widest cell of the per-source table (longer values end in '…')."""


def _cell(value: Any) -> Any:
    """A table cell, long text shortened to ``CELL`` characters."""
    if isinstance(value, str) and len(value) > CELL:
        return value[: CELL - 1] + "…"
    if isinstance(value, datetime):
        return f"{value.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
    return value


def summary(status: Status) -> list[str]:
    """The first lines: what needs attention, the last run, sources, articles, model, spool."""
    n = len(status.attention)
    need = "1 thing needs attention" if n == 1 else f"{n} things need attention"
    lines = [f"axiswatch status: {need}" if n else "axiswatch status: all well"]
    last = status.runs[0] if status.runs else None
    if last:
        started = f"{last['started_at'].astimezone(UTC):%Y-%m-%d %H:%M} UTC" if last["started_at"] else "?"
        lines.append(
            f"last run:  {last['flow']} #{last['run_id']} {last['outcome']} at {started} (discovered "
            f"{last['discovered'] or 0}, stored {last['extracted'] or 0}, scored {last['scored'] or 0}, "
            f"failed {last['failed'] or 0})"
        )
    else:
        lines.append("last run:  none yet")
    active = [s for s in status.sources if s["active"]]
    failing = sum(1 for s in active if s["consecutive_failures"])
    disabled = sum(1 for s in status.sources if s["disabled_reason"])
    synthetic = sum(1 for s in active if s.get("synthetic_dates"))
    demo = f", {synthetic} with synthetic demo dates (never judged silent)" if synthetic else ""
    lines.append(
        f"sources:   {len(active)} active, {failing} failing on their last poll, {disabled} disabled{demo}"
    )
    if status.weeks:
        newest = status.weeks[0]
        total = sum(int(w["articles"] or 0) for w in status.weeks)
        lines.append(
            f"articles:  {total} in the last {len(status.weeks)} weeks; {newest['week']}: "
            f"{newest['articles']} ({newest['scored']} scored)"
        )
    model = status.model
    lines.append(
        f"model:     {model['model_version']} ({model['articles_scored']} articles scored)"
        if model
        else "model:     none registered"
    )
    waiting = status.spooled_files + len(status.unreadable)
    lines.append(f"spool:     {waiting} waiting, {len(status.quarantined)} quarantined")
    return lines


def render(status: Status, sources: bool = False) -> str:
    """Human-readable status: the summary and what needs attention first; recent runs and weekly
    volumes; the per-source table only when ``sources`` is asked for."""
    from flows.cli.sql import render as table

    lines = summary(status)
    lines += ["", "## attention"] + ([f"- {p}" for p in status.attention] or ["nothing needs attention"])
    run_cols = ["run_id", "flow", "started_at", "outcome", "discovered", "extracted", "scored", "failed"]
    lines += [
        "",
        "## recent runs",
        table(run_cols, [tuple(_cell(r[c]) for c in run_cols) for r in status.runs[:5]], "table"),
    ]
    week_cols = ["week", "articles", "scored"]
    lines += [
        "",
        "## articles per week",
        table(week_cols, [tuple(w[c] for c in week_cols) for w in status.weeks], "table"),
    ]
    if sources:
        lines += [
            "",
            "## sources",
            table(
                SOURCE_COLUMNS, [tuple(_cell(s[c]) for c in SOURCE_COLUMNS) for s in status.sources], "table"
            ),
        ]
    else:
        lines += [
            "",
            f"({len(status.sources)} sources: `axiswatch status --per-source` shows the per-source table)",
        ]
    return "\n".join(lines)
