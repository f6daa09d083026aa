"""What a DuckDB error means, told by its class and its specific form, never by a loose substring.

A lock conflict is a ``duckdb.IOException`` of the form "Could not set lock on file …"; its
holder is the PID DuckDB names, else the owner of the POSIX lock on the file (``/proc/locks``).
Corruption (a checksum mismatch, a truncated file, a file that is not a DuckDB database) is
reported at once as ``WarehouseCorrupt``: waiting or spooling cannot help it. A file whose
header is not DuckDB's is refused before DuckDB sees it, so it never tries an extension.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import duckdb

from warehouse.base import WarehouseCorrupt

DUCKDB_MAGIC = b"DUCK"  # bytes 8..12 of every DuckDB database file
_LOCK_CONFLICT = re.compile(r"^(IO Error: )?Could not set lock on file ")
_LOCK_PID = re.compile(r"Conflicting lock is held in .* \(PID (\d+)\)")
_CORRUPTION = re.compile(
    r"Corrupt database file"
    r"|does not match stored checksum"
    r"|Could not read enough bytes from file"
    r"|is not a valid DuckDB database file"
    r"|The file is not a valid DuckDB database"
    r"|Failed to load metadata pointer"
    r"|database file .* is truncated",
    re.IGNORECASE,
)
_FOREIGN = (  # (magic at offset 0, what the file looks like)
    (b"SQLite format 3\x00", "an SQLite database"),
    (b"PAR1", "a Parquet file"),
    (b"PK\x03\x04", "a ZIP archive"),
    (b"\x1f\x8b", "a gzip file"),
    (b"\x28\xb5\x2f\xfd", "a zstd file"),
    (b"BZh", "a bzip2 file"),
    (b"\x89PNG", "a PNG image"),
    (b"%PDF", "a PDF document"),
    (b"ARROW1", "an Arrow IPC file"),
)


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (its class name if it has none)."""
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def is_lock_conflict(exc: BaseException) -> bool:
    """Whether ``exc`` is DuckDB refusing a file because another process holds its lock."""
    return isinstance(exc, duckdb.IOException) and bool(_LOCK_CONFLICT.match(first_line(exc)))


def is_corruption(exc: BaseException) -> bool:
    """Whether ``exc`` is DuckDB finding the database file damaged (never a lock conflict)."""
    if not isinstance(exc, duckdb.Error) or is_lock_conflict(exc):
        return False
    return _corruption_line(exc) is not None


def _corruption_line(exc: BaseException) -> str | None:
    """The line of DuckDB's message that reports corruption (a failed rollback quotes it below)."""
    return next((line for line in str(exc).splitlines() if _CORRUPTION.search(line)), None)


def lock_holder(path: Path, exc: BaseException) -> str:
    """Who holds the lock on ``path``: the PID in DuckDB's message, else the POSIX lock's owner."""
    match = _LOCK_PID.search(first_line(exc))
    pid = int(match.group(1)) if match else posix_lock_owner(path)
    return f"process {pid}" if pid else "another process"


def posix_lock_owner(path: Path) -> int | None:
    """The PID holding a POSIX (fcntl) lock on ``path``, read from /proc/locks (no file opened:
    closing a descriptor would drop this process's own locks on the file)."""
    try:
        stat = path.stat()
        with open("/proc/locks", encoding="ascii", errors="replace") as fh:
            lines = fh.read().splitlines()
    except OSError:
        return None
    for line in lines:
        owner = _lock_line_owner(line, stat.st_dev, stat.st_ino)
        if owner is not None and owner != os.getpid():
            return owner
    return None


def _lock_line_owner(line: str, dev: int, ino: int) -> int | None:
    """The PID of one /proc/locks line if it is a POSIX lock on the file (dev, ino)."""
    fields = line.split()
    if len(fields) < 6 or "POSIX" not in fields[1:3]:
        return None
    at = fields.index("POSIX")
    try:
        pid = int(fields[at + 3])
        major, minor, inode = fields[at + 4].split(":")
    except (IndexError, ValueError):
        return None
    same_dev = os.major(dev) == int(major, 16) and os.minor(dev) == int(minor, 16)
    return pid if same_dev and int(inode) == ino else None


def foreign_file(path: Path) -> str | None:
    """What ``path`` looks like if it exists, is not empty and is not a DuckDB database, else None."""
    try:
        with path.open("rb") as fh:
            header = fh.read(64)
    except FileNotFoundError:
        return None
    except OSError as exc:
        return f"a file that cannot be read ({exc.strerror})"
    if not header or header[8:12] == DUCKDB_MAGIC:
        return None
    for magic, what in _FOREIGN:
        if header.startswith(magic):
            return what
    if len(header) < 12:
        return f"a {len(header)}-byte file"
    printable = all(32 <= b < 127 or b in b"\t\r\n" for b in header)
    return "a text file" if printable else "a file of another kind"


def refuse_foreign(path: Path) -> None:
    """Raise WarehouseCorrupt in one line if ``path`` holds something other than a DuckDB database."""
    what = foreign_file(path)
    if what is not None:
        raise WarehouseCorrupt(path, f"it looks like {what}", foreign=True)


def corrupt(path: Path, exc: BaseException) -> WarehouseCorrupt:
    """The WarehouseCorrupt for DuckDB's corruption error ``exc`` about ``path``."""
    line = _corruption_line(exc) or first_line(exc)
    return WarehouseCorrupt(path, line.removeprefix("Original Error: ").strip())
