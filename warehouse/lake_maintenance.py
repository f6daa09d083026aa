"""Keeping a DuckLake's catalog small: flush inlined rows, expire old snapshots, compact, clean up.

Every write below ``lake.INLINE_ROWS`` rows goes into the PostgreSQL catalog as inlined data and
every commit adds a snapshot, so a lake polled every 30 minutes grows its catalog by about 1 KiB
per poll. ``maintain`` runs, in DuckLake's own CHECKPOINT order (the pinned ducklake extension of
duckdb 1.5.5; its CHECKPOINT does not flush inlined data, so each step is called by name):

1. ``ducklake_flush_inlined_data``: the inlined rows of every table into Parquet files under the
   data path (the catalog's inlined tables are emptied);
2. ``ducklake_expire_snapshots(older_than => now - retention)``: time travel before that point is
   given up, and files only those snapshots used are scheduled for deletion;
3. ``ducklake_merge_adjacent_files`` and ``ducklake_rewrite_data_files``: small files merged, files
   mostly deleted (a table updated in place, e.g. ``sources``) rewritten;
4. ``ducklake_cleanup_old_files(older_than => now - retention)``: scheduled files removed from disk
   (or the bucket) once they have waited the retention (a long read may still scan them).

Rows are never changed: every table reads the same before and after. DuckLake commits each step
with its own retries against concurrent writers (``ducklake_max_retry_count``); a step that still
loses is run again here.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import duckdb

from warehouse import lake as lakes
from warehouse.db import extension_dir

CATALOG = "lake_catalog"  # the catalog database attached read-only beside the lake (its size)
META = f"__ducklake_metadata_{lakes.ALIAS}"  # DuckLake's view of its own metadata tables
ATTEMPTS = 5
_q = lakes.quote  # a SQL string literal


@dataclass(frozen=True)
class Maintenance:
    """What one maintenance pass did."""

    rows_flushed: dict[str, int] = field(default_factory=dict)  # table → rows moved into Parquet
    inlined_before: int = 0  # row versions held in the catalog's inlined tables, before and after
    inlined_after: int = 0
    snapshots_expired: int = 0
    snapshots_left: int = 0
    files_compacted: int = 0  # files merged or rewritten …
    files_written: int = 0  # … into this many
    files_removed: list[str] = field(default_factory=list)
    catalog_bytes_before: int = 0
    catalog_bytes_after: int = 0
    cutoff: datetime = field(default_factory=lambda: datetime.now(UTC))
    seconds: float = 0.0

    @property
    def total_flushed(self) -> int:
        """Rows moved from the catalog into Parquet files, all tables."""
        return sum(self.rows_flushed.values())

    def lines(self, retention: timedelta) -> list[str]:
        """What was done, a few lines for a terminal or a flow run's log."""
        tables = ", ".join(f"{t} {n:,}" for t, n in sorted(self.rows_flushed.items(), key=lambda x: -x[1]))
        days = retention.total_seconds() / 86400
        return [
            f"flushed {self.total_flushed:,} inlined rows into Parquet files"
            + (f" ({tables})" if tables else "")
            + f"; catalog inlined row versions {self.inlined_before:,} → {self.inlined_after:,}",
            f"expired {self.snapshots_expired:,} snapshots older than {days:g} days"
            f" ({self.cutoff:%Y-%m-%d %H:%M} UTC); {self.snapshots_left:,} kept",
            f"compacted {self.files_compacted:,} files into {self.files_written:,}; "
            f"removed {len(self.files_removed):,} files replaced more than {days:g} days ago",
            f"catalog size {self.catalog_bytes_before / 2**20:,.1f} MiB → "
            f"{self.catalog_bytes_after / 2**20:,.1f} MiB (PostgreSQL reuses freed pages; VACUUM FULL"
            f" returns them); {self.seconds:.1f} s",
        ]


def maintain(location: lakes.Lake, retention: timedelta, *, compact: bool = True) -> Maintenance:
    """One maintenance pass on ``location`` keeping ``retention`` of history (see the module)."""
    started = time.perf_counter()
    cutoff = datetime.now(UTC) - retention
    con = lakes.connect(location, extension_dir())
    try:
        con.execute(f"ATTACH {_q(location.catalog)} AS {CATALOG} (TYPE postgres, READ_ONLY)")
        size_before, inlined_before = catalog_bytes(con), inlined_rows(con)
        flushed = _step(con, f"CALL ducklake_flush_inlined_data({_q(lakes.ALIAS)})")
        when = f"older_than => {_q(cutoff.isoformat())}::TIMESTAMPTZ"
        expired = _step(con, f"CALL ducklake_expire_snapshots({_q(lakes.ALIAS)}, {when})")
        compacted = written = 0
        if compact:
            for fn in ("ducklake_merge_adjacent_files", "ducklake_rewrite_data_files"):
                for row in _step(con, f"CALL {fn}({_q(lakes.ALIAS)})"):
                    compacted, written = compacted + int(row[2]), written + int(row[3])
        removed = _step(con, f"CALL ducklake_cleanup_old_files({_q(lakes.ALIAS)}, {when})")
        left = con.execute(f"SELECT count(*) FROM ducklake_snapshots({_q(lakes.ALIAS)})").fetchone()
        result = Maintenance(
            rows_flushed={str(r[1]): int(r[2]) for r in flushed if int(r[2])},
            inlined_before=inlined_before,
            inlined_after=inlined_rows(con),
            snapshots_expired=len(expired),
            snapshots_left=int(left[0]) if left else 0,
            files_compacted=compacted,
            files_written=written,
            files_removed=[str(r[0]) for r in removed],
            catalog_bytes_before=size_before,
            catalog_bytes_after=catalog_bytes(con),
            cutoff=cutoff,
        )
    finally:
        con.close()
    lakes.forget(location)  # this process's cached instances attach again and see the new files
    return replace(result, seconds=time.perf_counter() - started)


def _step(con: duckdb.DuckDBPyConnection, statement: str) -> list[tuple[Any, ...]]:
    """Run one maintenance call; again (a few times) when it lost to a concurrent writer's commit."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return con.execute(statement).fetchall()
        except duckdb.Error as exc:
            if not lakes.is_conflict(exc) or attempt == ATTEMPTS:
                raise
            time.sleep(0.2 * attempt)
    raise AssertionError("unreachable")


def catalog_bytes(con: duckdb.DuckDBPyConnection) -> int:
    """The catalog database's size on disk (pg_database_size; PostgreSQL reuses freed pages
    rather than returning them, so a flush stops the growth more than it shrinks the file)."""
    sql = "SELECT pg_database_size(current_database())::BIGINT AS bytes"
    row = con.execute(f"SELECT bytes FROM postgres_query('{CATALOG}', {_q(sql)})").fetchone()
    return int(row[0]) if row else 0


def inlined_rows(con: duckdb.DuckDBPyConnection) -> int:
    """Row versions held in the catalog's inlined-data tables (live and superseded)."""
    tables = con.execute(f"SELECT table_name FROM {META}.ducklake_inlined_data_tables").fetchall()
    total = 0
    for (name,) in tables:
        row = con.execute(f'SELECT count(*) FROM {META}."{name}"').fetchone()
        total += int(row[0]) if row else 0
    return total
