"""DuckDB access: the only module that opens a connection to the warehouse.

Writers hold the file for short windows (``writer``); readers open it read-only (``reader``).
DuckDB allows one writing process while nobody else has the file open, so opening waits
with backoff while another process holds the lock, and says who holds it.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import re
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

log = logging.getLogger(__name__)

PACKAGE_DIR = Path(__file__).resolve().parent
MIGRATIONS_DIR = PACKAGE_DIR / "migrations"
QUERIES_DIR = PACKAGE_DIR / "queries"
VIEWS_DIR = PACKAGE_DIR / "views"
REPORTS_DIR = PACKAGE_DIR / "reports"

_MIGRATION_NAME = re.compile(r"^(\d{3})_([a-z0-9_]+)\.sql$")
_LOCK_HOLDER = re.compile(r"\(PID (\d+)\)")


class WarehouseError(RuntimeError):
    """The warehouse cannot be opened or used as asked."""


class MissingWarehouse(WarehouseError):
    """The warehouse file does not exist yet (callers add how to create it for their settings)."""

    def __init__(self, path: Path) -> None:
        """Record the missing path."""
        super().__init__(f"no warehouse at {path}")
        self.path = path


class StorageFault(WarehouseError):
    """The warehouse or data directory cannot be used: the message names the cause and path."""


class WarehouseLocked(WarehouseError):
    """Another process held the warehouse lock for longer than our patience."""

    def __init__(self, path: Path, holder: str, waited: float) -> None:
        """Record which file, who holds it and how long we waited."""
        super().__init__(
            f"warehouse {path} is locked by {holder}; gave up after {waited:.0f}s "
            "(close the other session, or raise AXISWATCH_LOCK_PATIENCE_SECONDS)"
        )
        self.path = path
        self.holder = holder
        self.waited = waited


class MigrationChanged(WarehouseError):
    """A migration file no longer matches the checksum recorded when it was applied."""

    def __init__(self, file: Path, recorded: str, current: str) -> None:
        """Name the file and the two checksums, and say how to put it right."""
        super().__init__(
            f"migration {file} changed after it was applied to this warehouse "
            f"(checksum {recorded[:12]} when applied, {current[:12]} now): restore the file as it "
            "was applied and put the change in a new numbered migration"
        )
        self.file = file
        self.recorded = recorded
        self.current = current


def now_utc() -> datetime:
    """Current time, timezone-aware UTC (the warehouse stores TIMESTAMPTZ)."""
    return datetime.now(UTC)


def _lock_holder(message: str) -> str | None:
    """Return a description of the lock holder if ``message`` is a DuckDB lock conflict."""
    if "lock" not in message.lower():
        return None
    match = _LOCK_HOLDER.search(message)
    return f"process {match.group(1)}" if match else "another process"


def connect(path: Path, *, read_only: bool = False, patience: float = 60.0) -> duckdb.DuckDBPyConnection:
    """Open the warehouse, waiting with backoff (up to ``patience`` s) while it is locked."""
    if read_only and not path.exists():
        raise MissingWarehouse(path)
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    delay = 0.05
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as exc:
            holder = _lock_holder(str(exc))
            if holder is None:
                raise WarehouseError(f"cannot open warehouse {path}: {exc}") from exc
            waited = time.monotonic() - started
            if waited >= patience:
                raise WarehouseLocked(path, holder, waited) from exc
            log.warning("warehouse %s is locked by %s; waiting %.1fs", path, holder, delay)
            time.sleep(min(delay, max(patience - waited, 0.01)))
            delay = min(delay * 2, 5.0)


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


def migrate(con: duckdb.DuckDBPyConnection) -> list[int]:
    """Apply pending migrations, each in its own transaction; return the versions applied.

    Raises MigrationChanged, before applying anything, if an applied migration's file changed.
    """
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version INTEGER PRIMARY KEY, name VARCHAR NOT NULL,"
        " checksum VARCHAR NOT NULL, applied_at TIMESTAMPTZ NOT NULL)"
    )
    applied = check_applied(con)
    done = []
    for version, name, file in migration_files():
        if version in applied:
            continue
        body = file.read_text(encoding="utf-8")
        checksum = hashlib.sha256(body.encode()).hexdigest()
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(body)
            con.execute(
                "INSERT INTO schema_migrations VALUES (?, ?, ?, ?)",
                [version, name, checksum, now_utc()],
            )
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
        done.append(version)
    if done:
        refresh_views(con)
    return done


def check_applied(con: duckdb.DuckDBPyConnection) -> set[int]:
    """The applied migration versions; MigrationChanged if one's file no longer matches its checksum."""
    rows = con.execute("SELECT version, checksum FROM schema_migrations").fetchall()
    applied = {int(v): str(c) for v, c in rows}
    for version, _, file in migration_files():
        checksum = hashlib.sha256(file.read_text(encoding="utf-8").encode()).hexdigest()
        if version in applied and applied[version] != checksum:
            raise MigrationChanged(file, applied[version], checksum)
    return set(applied)


def verify_migrations(path: Path) -> None:
    """Raise MigrationChanged early (read-only, no waiting) if the warehouse at ``path`` was migrated
    with a migration file that has changed since; a missing, new or locked warehouse passes."""
    if not path.exists():
        return
    try:
        con = connect(path, read_only=True, patience=0)
    except WarehouseLocked:
        return  # a writer holds it: the run itself checks when it gets the lock
    try:
        check_applied(con)
    except duckdb.CatalogException:
        pass  # no migration ledger yet: nothing was applied
    finally:
        con.close()


def refresh_views(con: duckdb.DuckDBPyConnection) -> None:
    """(Re)create every view in views/*.sql, in file-name order; a view whose tables a later
    migration adds (a warehouse migrated only part way) is skipped with a warning."""
    for file in sorted(VIEWS_DIR.glob("*.sql")):
        try:
            con.execute(file.read_text(encoding="utf-8"))
        except duckdb.CatalogException as exc:
            log.warning("view %s not created: %s", file.name, str(exc).splitlines()[0])


@functools.cache
def query_text(name: str) -> str:
    """The SQL text of warehouse/queries/<name>.sql (read once per process)."""
    file = QUERIES_DIR / f"{name}.sql"
    if not file.exists():
        raise WarehouseError(f"no named query {name!r} in {QUERIES_DIR}")
    return file.read_text(encoding="utf-8")


def run_query(
    con: duckdb.DuckDBPyConnection, name: str, params: Sequence[Any] | dict[str, Any] = ()
) -> list[tuple[Any, ...]]:
    """Run the named query with bound parameters and return all rows."""
    return con.execute(query_text(name), params).fetchall()


_migrated: set[str] = set()


@contextmanager
def writer(path: Path, *, patience: float = 60.0) -> Iterator[duckdb.DuckDBPyConnection]:
    """A short-lived read-write connection, migrated on first use in this process."""
    con = connect(path, patience=patience)
    try:
        key = str(path.resolve())
        if key not in _migrated:
            if not migrate(con):
                refresh_views(con)  # the code's view definitions win over an older warehouse's
            _migrated.add(key)
        yield con
    finally:
        con.close()


@contextmanager
def reader(path: Path, *, patience: float = 10.0) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection (what `axiswatch sql` and reports use)."""
    con = connect(path, read_only=True, patience=patience)
    try:
        yield con
    finally:
        con.close()


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """BEGIN … COMMIT, rolled back if the block raises."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException as exc:
        try:
            con.execute("ROLLBACK")
        except duckdb.Error as failed:  # the write may be half-applied: nothing may go on
            raise StorageFault(f"a write failed and could not be rolled back: {failed}") from exc
        raise
    try:
        con.execute("COMMIT")
    except duckdb.Error as failed:
        raise StorageFault(f"a write could not be committed: {failed}") from failed


def insert_rows(
    con: duckdb.DuckDBPyConnection,
    table: str,
    rows: Sequence[dict[str, Any]],
    *,
    on_conflict: str = "",
    schema: pa.Schema | None = None,
) -> int:
    """Insert dict rows in one statement via Arrow (never row-by-row); return the count.

    A single row goes in as one INSERT … VALUES with bound parameters instead: registering an
    Arrow table costs a few milliseconds, binding one row's values much less.
    """
    if not rows:
        return 0
    if not re.fullmatch(r"[a-z_]+", table):
        raise WarehouseError(f"bad table name {table!r}")
    if len(rows) == 1 and schema is None:
        _insert_one(con, table, rows[0], on_conflict)
        return 1
    schema = schema if schema is not None else arrow_schema(con, table, list(rows[0]))
    view = f"_axiswatch_batch_{table}"
    with registered(con, view, table, rows, schema=schema):
        columns = ", ".join(schema.names)
        con.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {view} {on_conflict}")
    return len(rows)


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


def _insert_one(con: duckdb.DuckDBPyConnection, table: str, row: dict[str, Any], on_conflict: str) -> None:
    """INSERT one dict row with bound parameters (values converted as the Arrow path would)."""
    columns = tuple(row)
    bad = [c for c in columns if not _COLUMN.fullmatch(c)]
    if bad:
        raise WarehouseError(f"bad column name(s) {', '.join(map(repr, bad))} for table {table}")
    con.execute(_values_sql(table, columns, on_conflict), [_param(v) for v in row.values()])


def _param(value: Any) -> Any:
    """A value DuckDB can bind: numpy scalars as Python ones, naive datetimes as UTC (as Arrow does)."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


@functools.cache
def _values_sql(table: str, columns: tuple[str, ...], on_conflict: str) -> str:
    """The INSERT … VALUES statement of one row of these columns (text built once)."""
    marks = ", ".join("?" for _ in columns)
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks}) {on_conflict}"


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


def fts_extension_path() -> Path:
    """The fts extension file shipped in the duckdb-extension-fts package (no download)."""
    import duckdb_extension_fts

    version = duckdb.__version__
    path = Path(duckdb_extension_fts.__file__).parent / "extensions" / f"v{version}" / "fts.duckdb_extension"
    if not path.exists():
        raise WarehouseError(f"fts extension for duckdb {version} not found at {path}")
    return path


def load_fts(con: duckdb.DuckDBPyConnection) -> None:
    """Load the full-text search extension from its PyPI package (works offline, read-only too)."""
    con.execute(f"LOAD '{fts_extension_path()}'")


def package_sql_files(kind: str) -> list[Path]:
    """The .sql files shipped in warehouse/<kind>/ (views, reports, queries)."""
    base = resources.files("warehouse").joinpath(kind)
    return sorted(Path(str(p)) for p in base.iterdir() if str(p).endswith(".sql"))
