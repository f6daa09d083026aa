"""Alerts as the CLI, the workbench and the report read them (warehouse/queries/alerts_*.sql)."""

from __future__ import annotations

import json
from typing import Any

import duckdb

from warehouse.query import has_table, records


def has_alerts(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether this warehouse has the alerts tables (migration 020)."""
    return has_table(con, "alerts")


def expand(row: dict[str, Any]) -> dict[str, Any]:
    """An alert row with its JSON columns read."""
    row["related"] = json.loads(row.pop("related_json") or "[]")
    row["evidence"] = json.loads(row.pop("evidence_json") or "{}")
    return row


def alerts(con: duckdb.DuckDBPyConnection, *, include_closed: bool = False) -> list[dict[str, Any]]:
    """Alerts, newest first: open ones only unless ``include_closed``."""
    if not has_alerts(con):
        return []
    return [expand(r) for r in records(con, "alerts_list", all=include_closed, id=None)]


def alert(con: duckdb.DuckDBPyConnection, alert_id: str) -> dict[str, Any] | None:
    """One alert with its evidence and every delivery attempt, or None."""
    if not has_alerts(con):
        return None
    found = records(con, "alerts_list", all=True, id=alert_id)
    if not found:
        return None
    return expand(found[0]) | {"deliveries": records(con, "alerts_deliveries", id=alert_id)}
