"""`axiswatch status`: how the pipeline is doing, and whether anything needs attention."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import duckdb

from flows.settings import Settings
from warehouse.db import now_utc, query_text, reader
from warehouse.spool import QUARANTINE

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
]


@dataclass
class Status:
    """A snapshot of runs, sources, weekly volumes, the model and what needs attention."""

    runs: list[dict[str, Any]] = field(default_factory=list)
    sources: list[dict[str, Any]] = field(default_factory=list)
    weeks: list[dict[str, Any]] = field(default_factory=list)
    model: dict[str, Any] | None = None
    spooled_files: int = 0
    quarantined: list[dict[str, str]] = field(default_factory=list)
    attention: list[str] = field(default_factory=list)


def _rows(con: duckdb.DuckDBPyConnection, name: str, **params: Any) -> list[dict[str, Any]]:
    """A named status query's rows as dicts."""
    cursor = con.execute(query_text(name), params)
    columns = [d[0] for d in cursor.description or []]
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def collect(settings: Settings, now: datetime | None = None) -> Status:
    """Read the warehouse (read-only) and judge what needs attention."""
    now = now or now_utc()
    sink = settings.sink()
    status = Status(
        spooled_files=len(sink.pending_spool()),
        quarantined=[{"file": name, "reason": reason} for name, reason in sink.quarantined()],
    )
    with reader(settings.warehouse_path) as con:
        status.runs = _rows(con, "status_runs", limit=10)
        status.sources = _rows(con, "status_sources")
        models = _rows(con, "status_model")
        status.model = models[0] if models else None
        version = status.model["model_version"] if status.model else None
        status.weeks = _rows(con, "status_weeks", tz=settings.timezone, model_version=version, weeks=8)
    status.attention = judge(status, settings, now)
    return status


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
        if not s["active"]:
            continue
        if s["disabled_reason"]:
            problems.append(f"source {s['source_id']} disabled: {s['disabled_reason']}")
        elif s["consecutive_failures"] >= settings.failure_backoff_after:
            until = s["backoff_until"]
            when = f", backed off until {until:%Y-%m-%d %H:%M} UTC" if until else ""
            problems.append(
                f"source {s['source_id']} failed {s['consecutive_failures']} times in a row "
                f"({s['last_error_class']}){when}"
            )
    if status.spooled_files:
        problems.append(f"{status.spooled_files} spool file(s) wait for the warehouse lock to be free")
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


def render(status: Status) -> str:
    """Human-readable status report."""
    from flows.sqlcli import render as table

    lines = ["## runs", table(RUN_COLUMNS, [tuple(r[c] for c in RUN_COLUMNS) for r in status.runs], "table")]
    lines += [
        "",
        "## sources",
        table(SOURCE_COLUMNS, [tuple(s[c] for c in SOURCE_COLUMNS) for s in status.sources], "table"),
    ]
    week_cols = ["week", "articles", "scored"]
    lines += [
        "",
        "## articles per week",
        table(week_cols, [tuple(w[c] for c in week_cols) for w in status.weeks], "table"),
    ]
    model = status.model
    lines += [
        "",
        f"## model: {model['model_version']} ({model['articles_scored']} articles scored)"
        if model
        else "## model: none registered",
    ]
    lines += ["", "## attention"] + ([f"- {p}" for p in status.attention] or ["nothing needs attention"])
    return "\n".join(lines)
