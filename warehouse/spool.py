"""The spool file format: writes kept aside while the warehouse is locked, as versioned JSON.

A spool file is one UTF-8 JSON object::

    {"format": "axiswatch-spool", "version": 2, "created_at": "2026-11-30T12:00:00+00:00",
     "ops": [{"op": "record_poll", "version": 1, "args": [...]}, ...]}

Operations are named and versioned as registered in ``warehouse.ops`` (``write_op``); ``args``
are the operation's fields in declaration order. Version 1 files (no per-operation version)
are read as operations of version 1; an operation whose fields changed reads its older versions
through the readers it registered (``write_op(..., older={1: …})``). Argument values are plain JSON, or a
one-key tagged object for the few other types: ``{"$datetime": ISO 8601}`` (plus ``"tz"``
for a named zone), ``{"$date": …}``, ``{"$timedelta": [days, seconds, µs]}``, ``{"$bytes":
base64}``, ``{"$tuple": […]}``, ``{"$float": "nan" | "inf" | "-inf"}``, ``{"$dict": [[k, v],
…]}`` for a dict whose keys are not plain strings, and ``{"$record": tag, "fields": {…}}`` for
a dataclass registered with ``warehouse.ops.record``. Nothing else is ever constructed.
A file that cannot be read back raises ``SpoolError`` with a one-line reason; the sink
moves it to ``quarantine/`` beside a ``.reason`` file. Reading is bounded: only a regular file
(never followed through a symlink, never blocking on a FIFO) of at most ``MAX_FILE_BYTES``,
nested at most ``MAX_DEPTH`` deep, with every number and tagged value range-checked.
"""

from __future__ import annotations

import json
import logging
import os
import stat
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from warehouse.jsonbound import JSONBoundError
from warehouse.jsonbound import loads as bounded_loads
from warehouse.ops import WriteOp
from warehouse.spool_values import SpoolError, decode, encode

__all__ = ["SpoolError", "decode", "dumps", "encode", "loads", "quarantine", "read", "split", "write"]

log = logging.getLogger(__name__)

FORMAT = "axiswatch-spool"
VERSION = 2
READABLE_VERSIONS = (1, 2)
SUFFIX = ".spool"
QUARANTINE = "quarantine"
REASON_SUFFIX = ".reason"
MAX_FILE_BYTES = 64 * 1024 * 1024  # the sink splits its writes so that no file it writes is larger
MAX_DEPTH = 64  # a spooled write nests about 8 deep; 200,000 would exhaust the parser's stack

LEGACY_PICKLE = (
    "written by an older axiswatch as a Python pickle, which this version never loads "
    "(loading it could run code); to recover its writes, run the previous release once "
    "(e.g. `axiswatch ingest`) with this file back in the spool directory and the warehouse free, "
    "or delete it (the next runs poll and fetch again what was not stored)"
)


def dumps(ops: Sequence[WriteOp], created_at: datetime) -> bytes:
    """The bytes of a spool file holding ``ops``."""
    doc = {
        "format": FORMAT,
        "version": VERSION,
        "created_at": created_at.isoformat(),
        "ops": [
            {"op": op.op_name, "version": op.op_version, "args": [encode(a) for a in op.args()]} for op in ops
        ],
    }
    return json.dumps(doc, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode("utf-8")


def loads(data: bytes, known_ops: Mapping[str, type[WriteOp]]) -> list[WriteOp]:
    """The ops of a spool file's bytes; SpoolError (one-line reason) when it cannot be replayed."""
    if data[:1] == b"\x80" and data[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        raise SpoolError(LEGACY_PICKLE)
    try:
        doc = bounded_loads(data, MAX_DEPTH)
    except UnicodeDecodeError as exc:
        raise SpoolError(f"corrupt: not UTF-8 ({exc.reason} at byte {exc.start})") from None
    except JSONBoundError as exc:
        raise SpoolError(f"corrupt: {exc}") from None
    except (ValueError, RecursionError) as exc:
        raise SpoolError(f"corrupt: not a JSON spool file ({exc})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise SpoolError(f'corrupt: not an {FORMAT} file (no "format": "{FORMAT}" header)')
    if doc.get("version") not in READABLE_VERSIONS:
        raise SpoolError(
            f"unknown spool version {doc.get('version')!r} (this axiswatch reads versions 1 and 2); "
            "replay it with the release that wrote it"
        )
    if not isinstance(doc.get("ops"), list):
        raise SpoolError('corrupt: "ops" is not a list')
    return [_load_op(n, item, known_ops) for n, item in enumerate(doc["ops"], 1)]


def _load_op(n: int, item: Any, known_ops: Mapping[str, type[WriteOp]]) -> WriteOp:
    """One typed write of a spool file, checked against the registered operations and versions."""
    shaped = isinstance(item, dict) and isinstance(item.get("op"), str) and isinstance(item.get("args"), list)
    if not shaped:
        raise SpoolError(f'corrupt: write {n} is not {{"op": name, "args": [...]}}')
    cls = known_ops.get(item["op"])
    if cls is None:
        raise SpoolError(
            f"unknown operation {item['op']!r} (write {n}); this axiswatch has no such write, "
            "replay it with the release that wrote it"
        )
    version = item.get("version", 1)
    older = cls.op_older.get(version) if type(version) is int else None
    build = cls if version == cls.op_version else older
    if build is None:
        raise SpoolError(
            f"operation {item['op']!r} of version {version!r} (write {n}); this axiswatch writes "
            f"version {cls.op_version}: replay it with the release that wrote it"
        )
    args = tuple(decode(a) for a in item["args"])
    try:
        return build(*args)
    except TypeError as exc:
        raise SpoolError(f"corrupt: write {n} ({item['op']}) has the wrong arguments: {exc}") from None


def split(ops: Sequence[WriteOp], created_at: datetime, max_bytes: int = MAX_FILE_BYTES) -> list[bytes]:
    """The bytes of one or more spool files holding ``ops`` in order, each within ``max_bytes``
    when it holds more than one op (a single larger op is kept whole, and logged)."""
    data = dumps(ops, created_at)
    if len(data) <= max_bytes:
        return [data]
    if len(ops) == 1:
        log.error(
            "one spooled write of %d bytes is over the spool file limit of %d bytes", len(data), max_bytes
        )
        return [data]
    half = len(ops) // 2
    return split(ops[:half], created_at, max_bytes) + split(ops[half:], created_at, max_bytes)


def write(spool_dir: Path, name: str, ops: Sequence[WriteOp], created_at: datetime) -> Path:
    """Write a spool file atomically (temp file, fsync, rename, fsync of the directory)."""
    return write_bytes(spool_dir, name, dumps(ops, created_at))  # encode first: no file on error


def write_bytes(spool_dir: Path, name: str, data: bytes) -> Path:
    """Write a spool file's bytes atomically (temp file, fsync, rename, fsync of the directory)."""
    spool_dir.mkdir(parents=True, exist_ok=True)
    tmp = spool_dir / (name + ".tmp")
    with tmp.open("wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    final = spool_dir / name
    tmp.rename(final)
    _fsync_dir(spool_dir)
    return final


def _fsync_dir(directory: Path) -> None:
    """Make a rename in ``directory`` durable (where the platform allows it)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def read(
    file: Path, known_ops: Mapping[str, type[WriteOp]], max_bytes: int = MAX_FILE_BYTES
) -> list[WriteOp]:
    """The ops of a spool file; SpoolError when it cannot be read or replayed."""
    return loads(read_bytes(file, max_bytes), known_ops)


def entry_problem(file: Path, max_bytes: int = MAX_FILE_BYTES) -> str | None:
    """Why a spool entry can never be read (not a regular file, too large), from lstat alone."""
    try:
        info = os.lstat(file)
    except OSError as exc:
        return f"unreadable: {exc.strerror or exc}"
    return _type_problem(info) or _size_problem(info.st_size, max_bytes)


def _type_problem(info: os.stat_result) -> str | None:
    """Why a file of this mode is not a spool file (None for a regular file)."""
    if stat.S_ISREG(info.st_mode):
        return None
    kinds = [(stat.S_ISLNK, "a symbolic link"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISDIR, "a directory")]
    kinds += [
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ]
    kind = next((name for test, name in kinds if test(info.st_mode)), "not a regular file")
    return f"not a regular file ({kind}); spool files are regular files written by axiswatch"


def _size_problem(size: int, max_bytes: int) -> str | None:
    """Why a file of ``size`` bytes is not read (None when it is within the limit)."""
    if size <= max_bytes:
        return None
    return f"too large: {size:,} bytes, over the {max_bytes:,}-byte limit of a spool file (not read)"


def read_bytes(file: Path, max_bytes: int = MAX_FILE_BYTES) -> bytes:
    """A regular file's bytes, at most ``max_bytes`` of them; never follows a link or blocks."""
    problem = entry_problem(file, max_bytes)
    if problem:
        raise SpoolError(problem)
    flags = (
        os.O_RDONLY
        | getattr(os, "O_NOFOLLOW", 0)
        | getattr(os, "O_NONBLOCK", 0)
        | getattr(os, "O_CLOEXEC", 0)
    )
    try:
        fd = os.open(file, flags)
    except OSError as exc:
        raise SpoolError(f"unreadable: {exc.strerror or exc}") from None
    with os.fdopen(fd, "rb") as fh:
        info = os.fstat(fd)  # the entry may have been swapped since lstat
        problem = _type_problem(info) or _size_problem(info.st_size, max_bytes)
        if problem:
            raise SpoolError(problem)
        data = fh.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise SpoolError(_size_problem(len(data), max_bytes) or "too large")
    return data


def quarantine(file: Path, reason: str) -> Path:
    """Move a spool file to quarantine/ with a ``.reason`` file beside it; log one line."""
    reason = " ".join(reason.split())
    target_dir = file.parent / QUARANTINE
    target_dir.mkdir(exist_ok=True)
    target = target_dir / file.name
    n = 1
    while os.path.lexists(target):
        target, n = target_dir / f"{file.name}.{n}", n + 1
    (target_dir / (target.name + REASON_SUFFIX)).write_text(reason + "\n", encoding="utf-8")
    file.rename(target)
    log.warning("spool file %s quarantined as %s: %s", file.name, target, reason)
    return target


def quarantined(spool_dir: Path) -> list[tuple[str, str]]:
    """(file name, reason) of every quarantined spool file, oldest name first."""
    directory = spool_dir / QUARANTINE
    if not directory.is_dir():
        return []
    out = []
    for file in sorted(directory.iterdir()):
        if file.name.endswith(REASON_SUFFIX):
            continue
        sidecar = directory / (file.name + REASON_SUFFIX)
        reason = sidecar.read_text(encoding="utf-8").strip() if sidecar.exists() else "no reason recorded"
        out.append((file.name, reason))
    return out
