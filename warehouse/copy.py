"""`axiswatch warehouse copy`: move a warehouse to another backend, verified, idempotent.

Every table of the contract is copied in batches; a row whose key the target already holds is
skipped (so a re-run adds nothing), then row counts and key sets are compared table by table.
The keys are the primary keys the migrations declare (on a DuckLake the write path keeps them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import duckdb

from warehouse.db import Location, WarehouseError, insert_rows, reader, transaction, writer
from warehouse.migrate import migration_files

BATCH = 5_000
_TABLE = re.compile(r"CREATE TABLE (\w+) \((.*?)\n\);", re.DOTALL)
_INLINE = re.compile(r"^\s*(\w+)\s+[^,]*\bPRIMARY KEY\b", re.MULTILINE)
_TABLE_KEY = re.compile(r"PRIMARY KEY\s*\(([^)]*)\)")


def table_keys() -> dict[str, tuple[str, ...]]:
    """Each contract table and its key columns, as the migrations declare them."""
    keys: dict[str, tuple[str, ...]] = {}
    for _, _, file in migration_files():
        for name, body in _TABLE.findall(file.read_text(encoding="utf-8")):
            found = _TABLE_KEY.search(body)
            if found:
                keys[name] = tuple(c.strip() for c in found.group(1).split(","))
            else:
                inline = _INLINE.search(body)
                keys[name] = (inline.group(1),) if inline else ()
    return keys


@dataclass(frozen=True)
class TableCopy:
    """What copying one table did and found."""

    table: str
    source_rows: int
    copied: int
    target_rows: int
    keys_match: bool


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    """The table's columns in this warehouse, in order."""
    rows = con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE database_name = current_database() "
        "AND table_name = ? ORDER BY column_index",
        [table],
    ).fetchall()
    return [r[0] for r in rows]


def _key_digest(con: duckdb.DuckDBPyConnection, table: str, keys: tuple[str, ...]) -> tuple[int, int]:
    """(rows, order-free digest of the key set) of a table."""
    row = con.execute(
        f"SELECT count(*), coalesce(sum(hash({', '.join(keys)}) % 1000000007), 0) FROM {table}"
    ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def copy_table(
    src: duckdb.DuckDBPyConnection, dst: duckdb.DuckDBPyConnection, table: str, keys: tuple[str, ...]
) -> TableCopy:
    """Copy one table in key order, batch by batch, skipping keys the target holds."""
    columns = [c for c in _columns(src, table) if c in set(_columns(dst, table))]
    keys = keys or tuple(columns)
    before = _key_digest(dst, table, keys)[0]
    order = ", ".join(keys)
    cursor = src.execute(f"SELECT {', '.join(columns)} FROM {table} ORDER BY {order}")
    while batch := cursor.fetchmany(BATCH):
        rows = [dict(zip(columns, values, strict=True)) for values in batch]
        with transaction(dst):
            insert_rows(dst, table, rows, skip_existing=keys)
    source_rows, source_digest = _key_digest(src, table, keys)
    target_rows, target_digest = _key_digest(dst, table, keys)
    return TableCopy(table, source_rows, target_rows - before, target_rows, source_digest == target_digest)


def copy_warehouse(source: Location, target: Location) -> list[TableCopy]:
    """Copy every contract table from ``source`` to ``target`` (created and migrated if new)."""
    if str(source) == str(target):
        raise WarehouseError("--from and --to are the same warehouse")
    results = []
    with reader(source) as src, writer(target) as dst:
        present = {
            r[0]
            for r in src.execute(
                "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database()"
            ).fetchall()
        }
        for table, keys in table_keys().items():
            if table in present:
                results.append(copy_table(src, dst, table, keys))
    return results


def verified(results: list[TableCopy]) -> bool:
    """Whether every table's row count and key set match."""
    return all(r.source_rows == r.target_rows and r.keys_match for r in results)
