"""The one way code outside warehouse/ runs SQL: named queries, bound parameters, rows back.

A name is a file under warehouse/: ``queries/<name>.sql`` by default, ``reports/<name>.sql``
with ``kind="reports"``, ``queries/demo/<name>.sql`` with ``kind="queries/demo"``. Results come
as tuples (``rows``), dicts keyed by column (``dicts``) or one row (``one``). Only the ``sql``
command's user query runs elsewhere (warehouse/sandbox.py).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb

from warehouse.base import QUERIES_DIR, WarehouseError

Params = Sequence[Any] | dict[str, Any]
WAREHOUSE_DIR = QUERIES_DIR.parent


@functools.cache
def text(name: str, kind: str = "queries") -> str:
    """The SQL of warehouse/<kind>/<name>.sql (read once per process)."""
    path = WAREHOUSE_DIR / kind / f"{name}.sql"
    if not path.is_file():
        raise WarehouseError(f"no {kind} query {name!r} in {path.parent}")
    return path.read_text(encoding="utf-8")


def names(kind: str) -> list[str]:
    """The query names of one kind, in file order (e.g. the demo's summary tables)."""
    return [p.stem for p in sorted((WAREHOUSE_DIR / kind).glob("*.sql"))]


def _cursor(
    con: duckdb.DuckDBPyConnection, name: str, params: Params, kind: str
) -> duckdb.DuckDBPyConnection:
    """Execute a named query with bound parameters."""
    return con.execute(text(name, kind), params)


def rows(
    con: duckdb.DuckDBPyConnection, name: str, params: Params = (), *, kind: str = "queries"
) -> list[Any]:
    """Every row of a named query, as tuples."""
    return _cursor(con, name, params, kind).fetchall()


def dicts(
    con: duckdb.DuckDBPyConnection, name: str, params: Params = (), *, kind: str = "queries"
) -> list[dict[str, Any]]:
    """Every row of a named query, as dicts keyed by column name."""
    cursor = _cursor(con, name, params, kind)
    columns = [d[0] for d in cursor.description or []]
    return [dict(zip(columns, r, strict=True)) for r in cursor.fetchall()]


def table(
    con: duckdb.DuckDBPyConnection, name: str, params: Params = (), *, kind: str = "queries"
) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Column names and rows of a named query (for printing it as a table)."""
    cursor = _cursor(con, name, params, kind)
    return [d[0] for d in cursor.description or []], cursor.fetchall()


def one(con: duckdb.DuckDBPyConnection, name: str, params: Params = (), *, kind: str = "queries") -> Any:
    """The first row of a named query, or None."""
    return _cursor(con, name, params, kind).fetchone()


def has_table(con: duckdb.DuckDBPyConnection, table_name: str) -> bool:
    """Whether the warehouse has this table (an older warehouse may lack newer ones)."""
    row = one(con, "has_table", {"table": table_name})
    return bool(row and row[0])


def title(name: str, kind: str) -> str:
    """The ``-- title:`` of a named query's first line (the demo's table headings)."""
    first = text(name, kind).partition("\n")[0]
    return first.removeprefix("-- title:").strip() or Path(name).stem


def records(con: duckdb.DuckDBPyConnection, name: str, **params: Any) -> list[dict[str, Any]]:
    """``dicts`` with the parameters as keywords (``records(con, "web_queue", limit=20)``)."""
    return dicts(con, name, params)
