"""Numbered migrations in a ledger table (``schema_migrations``) and the views, on either backend.

On a DuckLake warehouse each migration's DDL is translated first (``lake.lake_ddl``: no keys,
indexes or sequences there); the ledger and checksums are those of the files as written.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import re
from pathlib import Path

import duckdb

from warehouse import lake
from warehouse.base import MIGRATIONS_DIR, VIEWS_DIR, MigrationChanged, WarehouseError, now_utc

log = logging.getLogger(__name__)

_MIGRATION_NAME = re.compile(r"^(\d{3})_([a-z0-9_]+)\.sql$")
LEDGER_DDL = (
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version INTEGER PRIMARY KEY, name VARCHAR NOT NULL,"
    " checksum VARCHAR NOT NULL, applied_at TIMESTAMPTZ NOT NULL)"
)


def migration_files() -> list[tuple[int, str, Path]]:
    """The numbered migration files, in order."""
    found = []
    for file in sorted(MIGRATIONS_DIR.glob("*.sql")):
        match = _MIGRATION_NAME.match(file.name)
        if not match:
            raise WarehouseError(f"migration file {file.name} is not named NNN_name.sql")
        found.append((int(match.group(1)), match.group(2), file))
    versions = [v for v, _, _ in found]
    if len(set(versions)) != len(versions):
        raise WarehouseError("two migration files share a number")
    return found


def is_lake(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether this connection's current database is an attached DuckLake."""
    row = con.execute(
        "SELECT type FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchone()
    return row is not None and str(row[0]).lower() == "ducklake"


def migrate(con: duckdb.DuckDBPyConnection) -> list[int]:
    """Apply pending migrations, each in its own transaction; return the versions applied.

    Raises MigrationChanged, before applying anything, if an applied migration's file changed.
    """
    on_lake = is_lake(con)
    con.execute(lake.lake_ddl(LEDGER_DDL) if on_lake else LEDGER_DDL)
    if on_lake:
        lake.ensure_gate(con)
    applied = check_applied(con)
    done = []
    for version, name, file in migration_files():
        if version in applied:
            continue
        body = file.read_text(encoding="utf-8")
        checksum = hashlib.sha256(body.encode()).hexdigest()
        con.execute("BEGIN TRANSACTION")
        try:
            if on_lake:
                lake.pass_gate(con)
                if _recorded(con, version):  # another process applied it since we looked
                    con.execute("ROLLBACK")
                    continue
            con.execute(lake.lake_ddl(body) if on_lake else body)
            con.execute(
                "INSERT INTO schema_migrations VALUES (?, ?, ?, ?)",
                [version, name, checksum, now_utc()],
            )
            con.execute("COMMIT")
        except Exception:
            with contextlib.suppress(duckdb.Error):  # a failed COMMIT has ended it already
                con.execute("ROLLBACK")
            raise
        done.append(version)
    if done:
        refresh_views(con)
    return done


def _recorded(con: duckdb.DuckDBPyConnection, version: int) -> bool:
    """Whether the ledger holds ``version`` (as this transaction sees it)."""
    row = con.execute("SELECT count(*) FROM schema_migrations WHERE version = ?", [version]).fetchone()
    return row is not None and bool(row[0])


def check_applied(con: duckdb.DuckDBPyConnection) -> set[int]:
    """The applied migration versions; MigrationChanged if one's file no longer matches its checksum."""
    rows = con.execute("SELECT version, checksum FROM schema_migrations").fetchall()
    applied = {int(v): str(c) for v, c in rows}
    for version, _, file in migration_files():
        checksum = hashlib.sha256(file.read_text(encoding="utf-8").encode()).hexdigest()
        if version in applied and applied[version] != checksum:
            raise MigrationChanged(file, applied[version], checksum)
    return set(applied)


def refresh_views(con: duckdb.DuckDBPyConnection) -> None:
    """(Re)create every view in views/*.sql, in file-name order; a view whose tables a later
    migration adds (a warehouse migrated only part way) is skipped with a warning."""
    for file in sorted(VIEWS_DIR.glob("*.sql")):
        try:
            con.execute(file.read_text(encoding="utf-8"))
        except duckdb.CatalogException as exc:
            log.warning("view %s not created: %s", file.name, str(exc).splitlines()[0])
        except duckdb.TransactionException as exc:
            if not lake.is_conflict(exc):
                raise
            # on a lake another process replaced the view at the same moment, with this same code
            log.info("view %s was replaced by another process just now", file.name)
