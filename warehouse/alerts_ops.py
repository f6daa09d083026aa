"""Alerts: the sink operations that store an alert, an analyst's action on it and each delivery.

All three tables are append-only: an alert is written once (its client-made id makes a replay or a
second detection of the same shift add nothing), its state is the latest ``alert_events`` row and
every notification attempt is its own ``alert_deliveries`` row.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import duckdb

from warehouse import query
from warehouse.db import insert_rows
from warehouse.ops import WriteOp, write_op

ACTIONS = ("ack", "dismiss", "reopen")


class AlertError(ValueError):
    """An alert action that cannot be stored (unknown alert or action, missing analyst)."""


def record_alerts(con: duckdb.DuckDBPyConnection, rows: list[dict[str, Any]]) -> int:
    """Store new alerts; an alert whose id is already stored is kept as it was (never overwritten)."""
    return insert_rows(con, "alerts", rows, skip_existing=("alert_id",)) if rows else 0


def record_deliveries(con: duckdb.DuckDBPyConnection, rows: list[dict[str, Any]]) -> int:
    """Store notification attempts (one row each, ok or with the error)."""
    return insert_rows(con, "alert_deliveries", rows, skip_existing=("delivery_id",)) if rows else 0


def alert_event(con: duckdb.DuckDBPyConnection, row: dict[str, Any]) -> None:
    """Store one analyst action on an alert (AlertError when the alert does not exist)."""
    found = query.rows(con, "alerts_exists", {"id": row["alert_id"]})
    if not found or not found[0][0]:
        raise AlertError(f"no alert {row['alert_id']!r}")
    con.execute(query.text("alerts_insert_event"), row)


def event_row(alert_id: str, action: str, analyst: str, now: datetime, note: str = "") -> dict[str, Any]:
    """A checked alert_events row with a fresh id."""
    if action not in ACTIONS:
        raise AlertError(f"action {action!r} is not one of {', '.join(ACTIONS)}")
    analyst = analyst.strip()
    if not analyst or len(analyst) > 80:
        raise AlertError("an analyst name (1-80 characters) is required")
    return {
        "event_id": uuid.uuid4().hex,
        "alert_id": alert_id,
        "action": action,
        "analyst": analyst,
        "note": note[:500],
        "acted_at": now,
    }


@write_op("record_alerts")
@dataclass(frozen=True)
class RecordAlerts(WriteOp):
    """New alerts (an id already stored is kept as it was)."""

    rows: list[dict[str, Any]]

    def apply(self, con: duckdb.DuckDBPyConnection) -> int:
        """record_alerts."""
        return record_alerts(con, self.rows)


@write_op("record_deliveries")
@dataclass(frozen=True)
class RecordDeliveries(WriteOp):
    """Notification attempts, one row each."""

    rows: list[dict[str, Any]]

    def apply(self, con: duckdb.DuckDBPyConnection) -> int:
        """record_deliveries."""
        return record_deliveries(con, self.rows)


@write_op("alert_event")
@dataclass(frozen=True)
class AlertEvent(WriteOp):
    """One analyst action on an alert (ack, dismiss, reopen)."""

    row: dict[str, Any]

    def apply(self, con: duckdb.DuckDBPyConnection) -> None:
        """alert_event."""
        alert_event(con, self.row)
