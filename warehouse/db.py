"""Warehouse access: the only module that opens a connection to the warehouse.

The warehouse is a DuckDB file (a ``Path``) or a DuckLake (``warehouse.lake.Lake``): together a
``Location``. Writers hold a connection for short windows (``writer``); readers open it read-only
(``reader``). DuckDB allows one writing process while nobody else has a file open, so opening a
file waits with backoff while another process holds the lock, and says who holds it; a lake has
no such lock (several processes write at once; see warehouse.lake).
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from warehouse import errors, lake
from warehouse.base import (
    MIGRATIONS_DIR,
    QUERIES_DIR,
    REPORTS_DIR,
    VIEWS_DIR,
    MigrationChanged,
    MissingWarehouse,
    StorageFault,
    WarehouseCorrupt,
    WarehouseError,
    WarehouseLocked,
    now_utc,
)
from warehouse.lake import Lake
from warehouse.migrate import check_applied, migrate, migration_files, refresh_views
from warehouse.migrate import is_lake as is_lake_db
from warehouse.rows import arrow_schema, insert_rows, registered

__all__ = [
    "MIGRATIONS_DIR",
    "QUERIES_DIR",
    "REPORTS_DIR",
    "VIEWS_DIR",
    "Lake",
    "Location",
    "MigrationChanged",
    "MissingWarehouse",
    "StorageFault",
    "WarehouseCorrupt",
    "WarehouseError",
    "WarehouseLocked",
    "arrow_schema",
    "check_applied",
    "insert_rows",
    "migrate",
    "migration_files",
    "now_utc",
    "refresh_views",
    "registered",
]

log = logging.getLogger(__name__)

Location = Path | Lake  # a DuckDB file or a DuckLake
# extensions load only from their PyPI packages (load_fts): DuckDB never installs or loads one itself
NO_AUTO_EXTENSIONS = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}


def extension_dir() -> Path:
    """Where DuckDB extensions are installed from their packages (per user, never downloaded)."""
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "axiswatch" / f"duckdb-{duckdb.__version__}-extensions"


_shared_files: dict[str, int] = {}  # warehouse files this process's threads read and write at once
# DuckDB's per-process instance cache races when one thread closes a file's last connection while
# another opens it ("Unique file handle conflict"): opening and closing a file take turns
_open_close = threading.Lock()


@contextmanager
def shared_by_threads(path: Location) -> Iterator[None]:
    """While inside, this process opens the warehouse file read-write even to read (a run whose
    scoring thread works beside its ingest): DuckDB shares one database between a process's
    connections only when they are opened alike, so a read-only open beside another thread's
    writer fails ("different configuration"). A lake needs nothing (no file instance to share)."""
    key = str(path.resolve()) if isinstance(path, Path) else ""
    if key:
        _shared_files[key] = _shared_files.get(key, 0) + 1
    try:
        yield
    finally:
        if key:
            _shared_files[key] -= 1
            if not _shared_files[key]:
                del _shared_files[key]


def connect(
    path: Location, *, read_only: bool = False, patience: float = 60.0, fresh: bool = False
) -> duckdb.DuckDBPyConnection:
    """Open the warehouse, waiting with backoff (up to ``patience`` s) while a file is locked. A
    lake connection comes from this process's cached instance unless ``fresh`` (a new instance,
    e.g. one whose settings the sandbox locks)."""
    if isinstance(path, Lake):
        if fresh:
            return lake.connect(path, extension_dir(), read_only=read_only)
        return lake.session(path, extension_dir(), read_only=read_only)
    if read_only and not path.exists():
        raise MissingWarehouse(path)
    if read_only and _shared_files and str(path.resolve()) in _shared_files:
        read_only = False  # see shared_by_threads
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    errors.refuse_foreign(path)  # e.g. an SQLite file: DuckDB would try to install a scanner for it
    started = time.monotonic()
    delay = 0.05
    while True:
        try:
            with _open_close:
                return duckdb.connect(str(path), read_only=read_only, config=dict(NO_AUTO_EXTENSIONS))
        except duckdb.Error as exc:
            if errors.is_corruption(exc):
                raise errors.corrupt(path, exc) from None
            if not errors.is_lock_conflict(exc):
                raise WarehouseError(f"cannot open warehouse {path}: {errors.first_line(exc)}") from exc
            waited = time.monotonic() - started
            holder = errors.lock_holder(path, exc)
            if waited >= patience:
                raise WarehouseLocked(path, holder, waited) from exc
            log.warning("warehouse %s is locked by %s; waiting %.1fs", path, holder, delay)
            time.sleep(min(delay, max(patience - waited, 0.01)))
            delay = min(delay * 2, 5.0)


def corruption_of(path: Location, exc: BaseException) -> WarehouseCorrupt | None:
    """The WarehouseCorrupt for a DuckDB error that found the warehouse file damaged, else None."""
    if isinstance(path, Path) and errors.is_corruption(exc):
        return errors.corrupt(path, exc)
    return None


def verify_migrations(path: Location) -> None:
    """Raise MigrationChanged early (read-only, no waiting) if the warehouse at ``path`` was migrated
    with a migration file that has changed since; a missing, new or locked warehouse passes."""
    if isinstance(path, Path) and not path.exists():
        return
    try:
        con = connect(path, read_only=True, patience=0)
    except (WarehouseLocked, MissingWarehouse):
        return  # a writer holds it (the run itself checks when it gets the lock), or nothing yet
    try:
        check_applied(con)
    except duckdb.CatalogException:
        pass  # no migration ledger yet: nothing was applied
    except duckdb.Error as exc:
        if isinstance(path, Path) and errors.is_corruption(exc):
            raise errors.corrupt(path, exc) from None
        raise
    finally:
        con.close()


def exists(path: Location) -> bool:
    """Whether a warehouse is there already (a lake: whether its catalog has our ledger)."""
    if isinstance(path, Path):
        return path.exists()
    try:
        con = connect(path, read_only=True)
    except WarehouseError:
        return False
    try:
        row = con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database()"
            " AND table_name = 'schema_migrations'"
        ).fetchone()
        return row is not None and bool(row[0])
    finally:
        con.close()


def is_lake(path: Location) -> bool:
    """Whether this location is a DuckLake (no file lock, no FTS, keys kept by the write path)."""
    return isinstance(path, Lake)


_migrated: set[str] = set()


@contextmanager
def writer(path: Location, *, patience: float = 60.0) -> Iterator[duckdb.DuckDBPyConnection]:
    """A short-lived read-write connection, migrated on first use in this process."""
    con = connect(path, patience=patience)
    try:
        key = str(path.resolve()) if isinstance(path, Path) else str(path)
        if key not in _migrated:
            _migrate_on_open(con, is_lake(path))
            _migrated.add(key)
        yield con
    except duckdb.Error as exc:
        _forget(path)
        damaged = corruption_of(path, exc)
        if damaged is not None:
            raise damaged from None
        raise
    finally:
        _close(con, path)


def _close(con: duckdb.DuckDBPyConnection, path: Location) -> None:
    """Close a connection; a damaged file found while closing (checkpoint) is WarehouseCorrupt."""
    try:
        if isinstance(path, Path):
            with _open_close:
                con.close()
        else:
            con.close()
    except duckdb.Error as exc:
        damaged = corruption_of(path, exc)
        if damaged is None:
            raise
        raise damaged from None


def _migrate_on_open(con: duckdb.DuckDBPyConnection, on_lake: bool) -> None:
    """Apply pending migrations, else refresh the views (the code's definitions win over an older
    warehouse's). On a lake several processes may start at once: a migration that loses to a
    concurrent one is tried again, and then finds it applied."""
    for attempt in range(1, 6):
        try:
            if not migrate(con):
                refresh_views(con)
            return
        except duckdb.Error as exc:
            racing = lake.is_conflict(exc) or "already exists" in str(exc).lower()
            if not (on_lake and racing) or attempt == 5:
                raise
            log.info("migration lost to a concurrent process (attempt %d); trying again", attempt)
            time.sleep(0.2 * attempt)


@contextmanager
def reader(
    path: Location, *, patience: float = 10.0, fresh: bool = False
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection (what `axiswatch sql` and reports use)."""
    con = connect(path, read_only=True, patience=patience, fresh=fresh)
    try:
        yield con
    except duckdb.Error as exc:
        _forget(path)
        damaged = corruption_of(path, exc)
        if damaged is not None:
            raise damaged from None
        raise
    finally:
        _close(con, path)


def _forget(path: Location) -> None:
    """After a database error on a lake, drop this process's cached instance (it may be broken,
    e.g. by a PostgreSQL restart): the next connection attaches again."""
    if isinstance(path, Lake):
        lake.forget(path)


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """BEGIN … COMMIT, rolled back if the block raises. On a DuckLake the transaction passes the
    write gate first, so a concurrent writer's commit makes this one fail with WriteConflict
    (nothing applied; run the write again) instead of both storing the same key."""
    on_lake = is_lake_connection(con)
    con.execute("BEGIN TRANSACTION")
    try:
        if on_lake:
            lake.pass_gate(con)
        yield con
    except BaseException as exc:
        try:
            con.execute("ROLLBACK")
        except duckdb.Error as failed:  # the write may be half-applied: nothing may go on
            if errors.is_corruption(failed):
                raise failed from exc  # the caller's reader/writer names the damaged file
            raise StorageFault(f"a write failed and could not be rolled back: {failed}") from exc
        raise
    try:
        con.execute("COMMIT")
    except duckdb.Error as failed:
        if errors.is_corruption(failed):
            raise
        if on_lake and lake.is_conflict(failed):
            _quiet_rollback(con)
            first = str(failed).splitlines()[0]
            raise WriteConflict(f"a concurrent write committed first: {first}") from failed
        raise StorageFault(f"a write could not be committed: {failed}") from failed


class WriteConflict(WarehouseError):
    """A DuckLake commit lost to a concurrent writer; nothing of it was applied (retry it)."""


def _quiet_rollback(con: duckdb.DuckDBPyConnection) -> None:
    """Roll back what a failed commit left open, if anything."""
    with contextlib.suppress(duckdb.Error):  # the failed commit may have ended it already
        con.execute("ROLLBACK")


def is_lake_connection(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether ``con`` writes to a DuckLake (its current database is one)."""
    return is_lake_db(con)


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
