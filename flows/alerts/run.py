"""After every scoring run: detect shifts, store new alerts with their evidence, notify, emit events.

Nothing here may stop the pipeline: ``after_scoring`` logs a failure and returns.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import duckdb

from flows.alerts import explain as evidence
from flows.alerts import notify
from flows.alerts.detect import DetectConfig, Outcome, consolidate, detect
from flows.alerts.series import last_complete_day, load_series
from flows.report.stats import Bootstrap, change
from flows.settings import Settings
from warehouse import query
from warehouse.alerts_ops import RecordAlerts
from warehouse.db import now_utc

log = logging.getLogger(__name__)
EVENT = "axiswatch.alert.raised"


@dataclass
class AlertRun:
    """What one detection pass did."""

    through: date
    tested: int = 0
    found: int = 0
    new: list[dict[str, Any]] = field(default_factory=list)
    deliveries: list[dict[str, Any]] = field(default_factory=list)


def config_of(settings: Settings) -> DetectConfig:
    """The detector's knobs from the settings."""
    return DetectConfig(
        scan_days=settings.alert_scan_days,
        baseline_days=settings.alert_baseline_days,
        min_after=settings.alert_min_articles,
        min_delta=settings.alert_min_delta,
        fdr=settings.alert_fdr,
    )


def alert_id(kind: str, key: str, direction: str, start: date) -> str:
    """The client-made id of an alert (the same shift found twice gets the same id)."""
    return hashlib.sha256(f"{kind}\x1f{key}\x1f{direction}\x1f{start}".encode()).hexdigest()[:16]


def is_repeat(
    outcome: Outcome, related: Sequence[Outcome], known: Sequence[tuple[Any, ...]], cfg: DetectConfig
) -> bool:
    """Whether a stored alert already covers this shift: one of its series, the same direction,
    started within the baseline of this one (a lasting shift is reported once)."""
    direction = evidence.pole(outcome)
    ours = {o.series.ident for o in (outcome, *related)}
    for kind, key, way, start, related_json in known:
        theirs = {(kind, key), *((r["kind"], r["key"]) for r in json.loads(related_json or "[]"))}
        if way == direction and ours & theirs and start >= outcome.start - timedelta(days=cfg.baseline_days):
            return True
    return False


def alert_row(
    con: duckdb.DuckDBPyConnection, lead: Outcome, related: Sequence[Outcome], context: dict[str, Any]
) -> dict[str, Any]:
    """The alerts row of one consolidated shift, with intervals (the report's bootstrap) and evidence."""
    ch = change(list(lead.after), list(lead.before), Bootstrap())
    direction = evidence.pole(lead)
    return {
        "alert_id": alert_id(lead.series.kind, lead.series.key, direction, lead.start),
        "series_kind": lead.series.kind,
        "series_key": lead.series.key,
        "series_name": lead.series.name,
        "direction": direction,
        "start_day": lead.start,
        **context,
        "before_n": int(lead.before.size),
        "before_mean": float(lead.before.mean()),
        "before_low": ch.old.low,
        "before_high": ch.old.high,
        "after_n": int(lead.after.size),
        "after_mean": float(lead.after.mean()),
        "after_low": ch.new.low,
        "after_high": ch.new.high,
        "delta": lead.delta,
        "delta_low": ch.low,
        "delta_high": ch.high,
        "strength": min(abs(lead.z), 1e6),
        "p_value": lead.p,
        "q_value": lead.q,
        "related_json": json.dumps(
            [
                {
                    "kind": r.series.kind,
                    "key": r.series.key,
                    "name": r.series.name,
                    "delta": round(r.delta, 4),
                    "q": r.q,
                    "after_n": int(r.after.size),
                }
                for r in related
            ],
            ensure_ascii=False,
        ),
        "evidence_json": json.dumps(evidence.gather(con, lead), ensure_ascii=False, default=str),
    }


def find_new(settings: Settings, run_id: int | None, now: datetime) -> AlertRun:
    """Detect on the warehouse and build the rows of the shifts no stored alert covers yet."""
    cfg, through = config_of(settings), last_complete_day(settings.timezone, now)
    result = AlertRun(through)
    with settings.sink().read() as con:
        series = load_series(con, through, cfg, settings.timezone)
        found, result.tested = detect(series, through, cfg)
        result.found = len(found)
        since = through - timedelta(days=cfg.baseline_days + cfg.scan_days)
        known = query.rows(con, "alerts_known", {"since": since})
        version = query.rows(con, "alerts_model_version")
        context = {
            "through_day": through,
            "detected_at": now,
            "run_id": run_id,
            "model_version": version[0][0] if version else None,
            "series_tested": result.tested,
            "fdr": cfg.fdr,
        }
        for lead, related in consolidate(found):
            if not is_repeat(lead, related, known, cfg):
                result.new.append(alert_row(con, lead, related, context))
    return result


def emit_events(rows: Sequence[dict[str, Any]]) -> int:
    """One Prefect event per new alert (for automations); the events emitted."""
    from prefect.events import emit_event

    sent = 0
    for row in rows:
        payload = {
            k: row[k] for k in ("series_kind", "series_key", "direction", "delta", "q_value", "after_n")
        }
        event = emit_event(
            event=EVENT,
            resource={
                "prefect.resource.id": f"axiswatch.alert.{row['alert_id']}",
                "prefect.resource.name": row["series_name"],
            },
            payload=payload | {"start_day": str(row["start_day"])},
        )
        sent += event is not None
    return sent


def in_flow_run() -> bool:
    """Whether this runs inside a Prefect flow run (outside one, emitting would start a server)."""
    import sys

    if "prefect" not in sys.modules:
        return False
    from prefect.context import FlowRunContext

    return FlowRunContext.get() is not None


def run_alerts(settings: Settings, run_id: int | None = None, now: datetime | None = None) -> AlertRun:
    """Detect, store new alerts, emit their events and deliver whatever is pending."""
    now = now or now_utc()
    result = find_new(settings, run_id, now.astimezone(UTC))
    sink = settings.sink()
    if result.new:
        sink.apply([RecordAlerts(result.new)])
        try:
            if in_flow_run():
                emit_events(result.new)
        except Exception as exc:  # no Prefect API reachable: the alerts are stored all the same
            log.warning("Prefect events for %d alerts not emitted: %s", len(result.new), exc)
    if settings.alert_notify_urls:
        result.deliveries = notify.deliver(
            sink, settings.alert_notify_urls, settings.alert_delivery_attempts, now
        )
    return result


def after_scoring(settings: Settings, run_id: int | None = None) -> AlertRun | None:
    """``run_alerts`` for the pipeline: a failure is logged, never raised."""
    try:
        return run_alerts(settings, run_id)
    except Exception as exc:
        log.error("alert detection failed (the run goes on): %s: %s", type(exc).__name__, exc)
        return None
