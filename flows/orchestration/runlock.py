"""One ingest/pipeline run per data directory at a time: an OS lock on ``data_dir/run.lock``.

A second `run` or `ingest` on the same data directory exits at once with one line naming the
active run (its PID, what it is and since when). The lock is ``fcntl.flock`` on an open file,
so the kernel releases it when the holder exits, even on ``kill -9``; a stale file is harmless.
A shard of a fanned-out pipeline run takes its own lock (``shard_lock_name``), so sibling shards
on the same data directory never block each other while a second run of one shard is refused.
Re-entrant within one process: the CLI takes it before Prefect starts, the flow again inside.
A run also locks its warehouse file (``<warehouse>.run.lock`` beside it), so two runs with
different data directories on one ``--db`` are refused just the same: one writer per warehouse.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path

LOCK_NAME = "run.lock"
_held: dict[str, list[int]] = {}  # lock path -> [fd, depth]


class RunActive(RuntimeError):
    """Another run holds this data directory."""


class RunLockError(OSError):
    """The lock file cannot be created (read-only or missing data directory)."""


def _open(path: Path) -> int:
    """Open (creating) the lock file, as one-line errors."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise RunLockError(exc.errno, f"cannot create the run lock {path}: {exc.strerror}") from exc


def _describe(fd: int) -> str:
    """What the lock file says about its holder."""
    os.lseek(fd, 0, os.SEEK_SET)
    text = os.read(fd, 4096).decode("utf-8", "replace").strip()
    return text or "a process that has not described itself yet"


def shard_lock_name(shard: int) -> str:
    """The lock file of shard ``shard`` of a fanned-out pipeline run (``run-shard-N.lock``)."""
    return f"run-shard-{shard}.lock"


def file_of(location: object) -> Path | None:
    """The warehouse file of a location, resolved (None for a DuckLake, made for several writers)."""
    return location.resolve() if isinstance(location, Path) else None


def warehouse_lock(warehouse: Path) -> Path:
    """The run lock of a warehouse file: ``<warehouse>.run.lock`` in its directory."""
    return warehouse.parent / f"{warehouse.name}.run.lock"


def note(data_dir: Path, what: str, name: str = LOCK_NAME, warehouse: Path | None = None) -> None:
    """Replace the holder's description (e.g. once the run id is known); no-op if not held."""
    started = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    line = f"pid {os.getpid()}: {what}, since {started}\n".encode()
    for path in (data_dir / name, *((warehouse_lock(warehouse),) if warehouse else ())):
        entry = _held.get(str(path.resolve()))
        if entry is not None:
            os.ftruncate(entry[0], 0)
            os.pwrite(entry[0], line, 0)


@contextmanager
def exclusive_run(
    data_dir: Path, what: str, name: str = LOCK_NAME, warehouse: Path | None = None
) -> Iterator[None]:
    """Hold data_dir's run lock (or the lock ``name``) and, given one, the warehouse file's run
    lock for the block, or raise RunActive naming the active run at once."""
    with ExitStack() as stack:
        stack.enter_context(_hold(data_dir / name, what, f"on {data_dir}"))
        if warehouse is not None:
            stack.enter_context(_hold(warehouse_lock(warehouse), what, f"on warehouse {warehouse}"))
        yield


@contextmanager
def _hold(path: Path, what: str, where: str) -> Iterator[None]:
    """Hold the flock on ``path`` (re-entrant in this process), or raise RunActive."""
    key = str(path.resolve())
    if key in _held:
        _held[key][1] += 1
        try:
            yield
        finally:
            _held[key][1] -= 1
        return
    fd = _open(path)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = _describe(fd)
        os.close(fd)
        raise RunActive(f"another run is active {where}: {holder} (lock {path})") from None
    _held[key] = [fd, 1]
    try:
        _write_holder(fd, what)
        yield
    finally:
        del _held[key]
        os.close(fd)  # closing releases the flock


def _write_holder(fd: int, what: str) -> None:
    """Describe this process as the holder in the lock file."""
    started = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"pid {os.getpid()}: {what}, since {started}\n".encode(), 0)
