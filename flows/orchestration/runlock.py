"""One ingest/pipeline run per data directory at a time: an OS lock on ``data_dir/run.lock``.

A second `run` or `ingest` on the same data directory exits at once with one line naming the
active run (its PID, what it is and since when). The lock is ``fcntl.flock`` on an open file,
so the kernel releases it when the holder exits, even on ``kill -9``; a stale file is harmless.
A shard of a fanned-out pipeline run takes its own lock (``shard_lock_name``), so sibling shards
on the same data directory never block each other while a second run of one shard is refused.
Re-entrant within one process: the CLI takes it before Prefect starts, the flow again inside.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
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


def note(data_dir: Path, what: str, name: str = LOCK_NAME) -> None:
    """Replace the holder's description (e.g. once the run id is known); no-op if not held."""
    entry = _held.get(str((data_dir / name).resolve()))
    if entry is None:
        return
    started = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    line = f"pid {os.getpid()}: {what}, since {started}\n".encode()
    os.ftruncate(entry[0], 0)
    os.pwrite(entry[0], line, 0)


@contextmanager
def exclusive_run(data_dir: Path, what: str, name: str = LOCK_NAME) -> Iterator[None]:
    """Hold data_dir's run lock (or the lock ``name``) for the block, or raise RunActive naming
    the active run at once."""
    path = data_dir / name
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
        raise RunActive(f"another run is active on {data_dir}: {holder} (lock {path})") from None
    _held[key] = [fd, 1]
    try:
        note(data_dir, what, name)
        yield
    finally:
        del _held[key]
        os.close(fd)  # closing releases the flock
