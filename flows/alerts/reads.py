"""Alerts as the CLI, the workbench and the report read them (warehouse/queries/alerts_*.sql)."""

from __future__ import annotations

import json
from typing import Any

import duckdb

from warehouse.db import query_text, run_query


def _dicts(con: duckdb.DuckDBPyConnection, name: str, **params: Any) -> list[dict[str, Any]]:
    """A named query's rows as dicts."""
    cursor = con.execute(query_text(name), params)
    columns = [d[0] for d in cursor.description or []]
    return [dict(zip(columns, r, strict=True)) for r in cursor.fetchall()]


def has_alerts(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether this warehouse has the alerts tables (migration 020)."""
    found = run_query(con, "alerts_table_exists")
    return bool(found and found[0][0])


def expand(row: dict[str, Any]) -> dict[str, Any]:
    """An alert row with its JSON columns read."""
    row["related"] = json.loads(row.pop("related_json") or "[]")
    row["evidence"] = json.loads(row.pop("evidence_json") or "{}")
    return row


def alerts(con: duckdb.DuckDBPyConnection, *, include_closed: bool = False) -> list[dict[str, Any]]:
    """Alerts, newest first: open ones only unless ``include_closed``."""
    if not has_alerts(con):
        return []
    return [expand(r) for r in _dicts(con, "alerts_list", all=include_closed, id=None)]


def alert(con: duckdb.DuckDBPyConnection, alert_id: str) -> dict[str, Any] | None:
    """One alert with its evidence and every delivery attempt, or None."""
    if not has_alerts(con):
        return None
    found = _dicts(con, "alerts_list", all=True, id=alert_id)
    if not found:
        return None
    return expand(found[0]) | {"deliveries": _dicts(con, "alerts_deliveries", id=alert_id)}
