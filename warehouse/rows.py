"""Rows into tables: dict rows inserted via Arrow in one statement, typed as the table's columns."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from warehouse.base import WarehouseError


def insert_rows(
    con: duckdb.DuckDBPyConnection,
    table: str,
    rows: Sequence[dict[str, Any]],
    *,
    skip_existing: Sequence[str] = (),
    schema: pa.Schema | None = None,
) -> int:
    """Insert dict rows in one statement via Arrow (never row-by-row); return the rows given.

    With ``skip_existing`` (the table's key columns), rows whose key is already stored, or repeated
    earlier in the batch, are skipped: the write path keeps keys unique on both backends (a
    DuckLake has no primary keys). A single plain row goes in as one INSERT … VALUES with bound
    parameters instead: registering an Arrow table costs a few milliseconds, binding much less.
    """
    if not rows:
        return 0
    if not re.fullmatch(r"[a-z_]+", table):
        raise WarehouseError(f"bad table name {table!r}")
    _check_columns(table, [*rows[0], *skip_existing])
    if len(rows) == 1 and schema is None and not skip_existing:
        _insert_one(con, table, rows[0])
        return 1
    schema = schema if schema is not None else arrow_schema(con, table, list(rows[0]))
    view = f"_axiswatch_batch_{table}"
    with registered(con, view, table, rows, schema=schema):
        con.execute(_batch_sql(table, view, tuple(schema.names), tuple(skip_existing)))
    return len(rows)


@functools.cache
def _batch_sql(table: str, view: str, columns: tuple[str, ...], keys: tuple[str, ...]) -> str:
    """INSERT … SELECT from a registered batch, skipping stored and repeated keys when ``keys``."""
    names = ", ".join(columns)
    if not keys:
        return f"INSERT INTO {table} ({names}) SELECT {names} FROM {view}"
    match = " AND ".join(f"t.{k} = b.{k}" for k in keys)
    return (
        f"INSERT INTO {table} ({names}) SELECT {', '.join(f'b.{c}' for c in columns)} FROM {view} b"
        f" WHERE NOT EXISTS (SELECT 1 FROM {table} t WHERE {match})"
        f" QUALIFY row_number() OVER (PARTITION BY {', '.join(f'b.{k}' for k in keys)}) = 1"
    )


@contextmanager
def registered(
    con: duckdb.DuckDBPyConnection,
    name: str,
    table: str,
    rows: Sequence[dict[str, Any]],
    *,
    schema: pa.Schema | None = None,
) -> Iterator[None]:
    """Dict rows, typed as ``table``'s columns, readable by SQL as the relation ``name`` meanwhile."""
    schema = schema if schema is not None else arrow_schema(con, table, list(rows[0]))
    con.register(name, pa.Table.from_pylist(list(rows), schema=schema))
    try:
        yield
    finally:
        con.unregister(name)


_COLUMN = re.compile(r"[a-z_][a-z0-9_]*")


def _check_columns(table: str, columns: Sequence[str]) -> None:
    """Refuse column names that are not plain identifiers (they are spliced into SQL)."""
    bad = [c for c in columns if not _COLUMN.fullmatch(c)]
    if bad:
        raise WarehouseError(f"bad column name(s) {', '.join(map(repr, bad))} for table {table}")


def _insert_one(con: duckdb.DuckDBPyConnection, table: str, row: dict[str, Any]) -> None:
    """INSERT one dict row with bound parameters (values converted as the Arrow path would)."""
    con.execute(_values_sql(table, tuple(row)), [_param(v) for v in row.values()])


def _param(value: Any) -> Any:
    """A value DuckDB can bind: numpy scalars as Python ones, naive datetimes as UTC (as Arrow does)."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


@functools.cache
def _values_sql(table: str, columns: tuple[str, ...]) -> str:
    """The INSERT … VALUES statement of one row of these columns (text built once)."""
    marks = ", ".join("?" for _ in columns)
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"


_ARROW_TYPES: dict[str, pa.DataType] = {
    "UBIGINT": pa.uint64(),
    "BIGINT": pa.int64(),
    "INTEGER": pa.int32(),
    "DOUBLE": pa.float64(),
    "BOOLEAN": pa.bool_(),
    "VARCHAR": pa.string(),
    "BLOB": pa.binary(),
    "DATE": pa.date32(),
    "TIMESTAMP WITH TIME ZONE": pa.timestamp("us", tz="UTC"),
    "TIMESTAMP": pa.timestamp("us"),
}


_SCHEMAS: dict[tuple[str, str, tuple[str, ...]], pa.Schema] = {}


def arrow_schema(con: duckdb.DuckDBPyConnection, table: str, columns: Sequence[str]) -> pa.Schema:
    """The Arrow schema matching ``table``'s column types for the given columns (cached per
    database file: the migrations fix the types)."""
    key = (str(con.execute("SELECT current_database()").fetchone()), table, tuple(columns))
    if key not in _SCHEMAS:
        _SCHEMAS[key] = _arrow_schema(con, table, columns)
    return _SCHEMAS[key]


def _arrow_schema(con: duckdb.DuckDBPyConnection, table: str, columns: Sequence[str]) -> pa.Schema:
    """Look the column types up in information_schema."""
    types = dict(
        con.execute(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ?", [table]
        ).fetchall()
    )
    missing = [c for c in columns if c not in types]
    if missing:
        raise WarehouseError(f"table {table} has no column(s) {', '.join(missing)}")
    return pa.schema([(c, _ARROW_TYPES.get(types[c], pa.string())) for c in columns])
