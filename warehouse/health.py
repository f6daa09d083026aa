"""Storage faults as one line: damaged or foreign warehouse files, read-only or full disks.

``preflight`` runs before Prefect starts: the data directory must be writable with some
room left, and an existing warehouse must be a DuckDB file that opens. During a run, a
storage error (I/O error, corrupt block, no space, a commit or rollback that fails) is
raised as ``StorageFault`` so the run stops and is marked failed instead of carrying on.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
from pathlib import Path

import duckdb

from warehouse import errors
from warehouse.db import StorageFault, WarehouseError, WarehouseLocked, connect, corruption_of
from warehouse.lake import Lake

MIN_FREE_BYTES = 16 * 1024 * 1024  # below this a run would fail part-way: refuse to start
_STORAGE_ERRNOS = {errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EPERM, errno.EIO, errno.EDQUOT}
_STORAGE_MARKERS = (
    "no space left",
    "read-only file system",
    "database has been invalidated",
    "failed to commit",
    "failed to rollback",
    "could not write",
    "could not truncate",
    "could not fsync",
)


def describe(exc: BaseException, path: Path | Lake) -> str | None:
    """A one-line storage diagnosis of ``exc`` about ``path``, or None if it is not a storage fault."""
    if isinstance(exc, StorageFault):
        return str(exc)
    damaged = corruption_of(path, exc)
    if damaged is not None:
        return str(damaged)
    if isinstance(exc, OSError) and exc.errno in _STORAGE_ERRNOS:
        return f"storage fault at {exc.filename or path}: {exc.strerror}"
    text = errors.first_line(exc)
    if isinstance(exc, duckdb.Error) and any(m in text.lower() for m in _STORAGE_MARKERS):
        return f"warehouse {path} cannot be used: {text}"
    if isinstance(exc, duckdb.IOException | duckdb.FatalException) and not errors.is_lock_conflict(exc):
        return f"warehouse {path} cannot be used: {text}"
    return None


def check_data_dir(data_dir: Path, what: str = "data directory") -> None:
    """The directory exists (or can be made), takes a file, and has MIN_FREE_BYTES free."""
    probe = data_dir / f".axiswatch-probe-{os.getpid()}"
    if data_dir.exists() and not data_dir.is_dir():
        raise StorageFault(f"{what} {data_dir} is a file, not a directory: move it away")
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        with probe.open("wb") as fh:
            fh.write(b"\0" * 4096)
            fh.flush()
            os.fsync(fh.fileno())
        probe.unlink()
    except OSError as exc:
        with contextlib.suppress(OSError):
            probe.unlink(missing_ok=True)
        raise StorageFault(f"{what} {data_dir} is not writable: {exc.strerror}") from None
    free = shutil.disk_usage(data_dir).free
    if free < MIN_FREE_BYTES:
        raise StorageFault(
            f"disk full: {free / 2**20:.1f} MiB free under {data_dir} (a run needs at least "
            f"{MIN_FREE_BYTES // 2**20} MiB); free space and run again"
        )


def check_warehouse(path: Path) -> None:
    """An existing warehouse file is a DuckDB database that opens (a held lock is not a fault);
    raises WarehouseCorrupt (a StorageFault) for a foreign or damaged file, before any write."""
    if not path.exists():
        return
    try:
        connect(path, read_only=True, patience=0).close()
    except WarehouseLocked:
        return  # a writer holds it: the sink waits or spools
    except StorageFault:
        raise  # WarehouseCorrupt: a foreign or damaged file
    except WarehouseError as exc:
        raise StorageFault(str(exc)) from None


def check_spool(spool_dir: Path) -> None:
    """The spool directory, if there is one, is a writable directory (else made when needed)."""
    if spool_dir.exists() or spool_dir.is_symlink():
        check_data_dir(spool_dir, "spool directory")


def preflight(data_dir: Path, warehouse: Path | Lake) -> None:
    """Every check a run needs before Prefect starts; raises StorageFault with one line."""
    check_data_dir(data_dir)
    check_spool(data_dir / "spool")
    if isinstance(warehouse, Lake):
        if not warehouse.is_remote:
            check_data_dir(Path(warehouse.data_path))
        return
    if warehouse.parent != data_dir:
        check_data_dir(warehouse.parent)
    check_warehouse(warehouse)
