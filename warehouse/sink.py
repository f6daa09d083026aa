"""Every pipeline write goes through a Sink, so a locked warehouse never costs data.

DuckDB lets one process write while nobody else has the file open. An analyst's session
(duckdb CLI, notebook, `axiswatch sql`) can hold the file through a scheduled run. The sink
waits for the lock with backoff (``lock_patience_seconds``), logging who holds it; if the lock
outlasts that, it keeps the run's writes aside in a spool file under ``data_dir/spool``
(versioned JSON, see ``warehouse.spool``) and the next run applies them first, exactly once
(a ledger row is committed in the same transaction). A spool file that cannot be replayed is
moved to ``spool/quarantine/`` with its reason and never blocks later runs.
A write is a list of typed operations (``warehouse.ops.WriteOp`` dataclasses, registered by
name and version in ``warehouse.ops.OPS``): the modules imported here register every one of them.
"""

from __future__ import annotations

import itertools
import logging
import random
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import duckdb

from warehouse import (
    alerts_ops,
    article_ops,
    health,
    ingest_ops,
    labels_ops,
    lake,
    poll_ops,
    query,
    run_ops,
    score_ops,
    spool,
)
from warehouse.db import (
    Location,
    StorageFault,
    WarehouseError,
    WarehouseLocked,
    WriteConflict,
    corruption_of,
    exists,
    now_utc,
    reader,
    transaction,
    writer,
)
from warehouse.ops import OPS, WriteOp, write_op

__all__ = ["OPS", "Sink", "WriteOp", "write_op"]
OP_MODULES = (
    alerts_ops,
    article_ops,
    ingest_ops,
    labels_ops,
    poll_ops,
    run_ops,
    score_ops,
)  # imported for their registrations

log = logging.getLogger(__name__)
T = TypeVar("T")

# what a spooled write may raise when it cannot be applied to this warehouse (quarantined);
# duckdb.IOException and duckdb.InterruptException are passed through: the file stays for later
REPLAY_ERRORS = (TypeError, ValueError, KeyError, AttributeError, WarehouseError, duckdb.Error)
TRANSIENT_ERRORS = (duckdb.IOException, duckdb.InterruptException)
COMMIT_OPS = 64  # writes per commit at most (AXISWATCH_COMMIT_WRITES)
COMMIT_BYTES = 16 * 1024 * 1024  # and their approximate size (AXISWATCH_COMMIT_MIB)


class Sink:
    """Applies named write operations to the warehouse, spooling them while it is locked."""

    def __init__(
        self,
        path: Location,
        spool_dir: Path,
        patience: float,
        *,
        commit_ops: int = COMMIT_OPS,
        commit_bytes: int = COMMIT_BYTES,
    ) -> None:
        """Bind to one warehouse (file or lake), its spool directory and the lock patience in
        seconds; up to ``commit_ops`` writes of up to ``commit_bytes`` share a commit."""
        self.path = path
        self.patience = patience
        self.spool_dir = spool_dir
        self.commit_ops = commit_ops
        self.commit_bytes = commit_bytes
        self.spooled = 0
        self.locked_by: str | None = None

    def apply(self, ops: Sequence[WriteOp]) -> list[Any] | None:
        """Apply ops in one short write window, in groups sharing one transaction
        (``commit_groups``; a group that fails for another reason than a lost race is rolled back
        and its ops run again one per transaction). Each write stays whole: a killed run leaves
        no half-written article, at most a group's writes to do again.

        Returns one result per op (an exception object for an op that failed and was rolled
        back alone), or None when the warehouse stayed locked (a file) or its catalog could not
        be reached (a lake) and the ops not yet applied were spooled.
        """
        if not ops:
            return []
        patience = 0.0 if self.locked_by else self.patience
        results: list[Any] = []
        try:
            with writer(self.path, patience=patience) as con:
                self.locked_by = None
                for group in commit_groups(ops, self.commit_ops, self.commit_bytes):
                    results.extend(self._group(con, group))  # only once the group is committed
                return results
        except WarehouseLocked as exc:
            self.locked_by = exc.holder
            self._spool(ops)
            return None
        except StorageFault:
            raise  # a damaged warehouse, a full or read-only disk: spooling cannot help
        except (WarehouseError, duckdb.Error) as exc:
            if not lake.is_unreachable(exc):
                raise
            self.locked_by = "an unreachable DuckLake catalog"
            self._spool(ops[len(results) :])
            return None

    def _one(self, con: duckdb.DuckDBPyConnection, op: WriteOp) -> Any:
        """Run one op in its own transaction; a failure is logged, rolled back and returned, but a
        storage fault (I/O error, full disk, failed commit or rollback) stops the run. A commit
        that lost to a concurrent writer (DuckLake) is run again, up to CONFLICT_RETRIES times."""
        try:
            return retry_conflicts(lambda: _in_transaction(con, op), op.op_name)
        except (duckdb.Error, ValueError, KeyError) as exc:
            self._stop_on_storage_fault(exc)
            log.error("write %s failed and was rolled back: %s", op.op_name, exc)
            return exc

    def _stop_on_storage_fault(self, exc: BaseException) -> None:
        """Raise WarehouseCorrupt or StorageFault when ``exc`` is one (the run must stop there)."""
        damaged = corruption_of(self.path, exc)
        if damaged is not None:
            raise damaged from None
        fault = health.describe(exc, self.path)
        if fault:
            raise StorageFault(fault) from exc

    def _group(self, con: duckdb.DuckDBPyConnection, group: Sequence[WriteOp]) -> list[Any]:
        """Run a group of ops in one transaction (re-run whole while it loses a race); if one of
        them fails otherwise, the group is rolled back and each op runs alone (``_one``)."""
        if len(group) == 1:
            return [self._one(con, group[0])]
        try:
            return retry_conflicts(lambda: _all_in_transaction(con, group), f"{len(group)} writes")
        except (duckdb.Error, ValueError, KeyError) as exc:
            self._stop_on_storage_fault(exc)
            if lake.is_unreachable(exc):
                raise
            log.info("a commit of %d writes failed (%s); applying them one by one", len(group), exc)
        return [self._one(con, op) for op in group]

    @contextmanager
    def read(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-only connection (works while an analyst holds a read-only session)."""
        if not exists(self.path):
            with writer(self.path, patience=self.patience):
                pass  # create and migrate an empty warehouse first
        with reader(self.path, patience=self.patience) as con:
            yield con

    def _spool(self, ops: Sequence[WriteOp]) -> Path:
        """Write ops to new spool files atomically, in order, each within the spool file size limit."""
        stem = f"{time.time_ns():020d}-{uuid.uuid4().hex[:8]}"
        chunks = spool.split(ops, now_utc())
        files = [
            spool.write_bytes(self.spool_dir, f"{stem}-{n:04d}{spool.SUFFIX}", d)
            for n, d in enumerate(chunks)
        ]
        self.spooled += len(ops)
        log.warning(
            "warehouse %s locked by %s: %d writes kept in %s for the next run",
            self.path,
            self.locked_by,
            len(ops),
            ", ".join(str(f) for f in files),
        )
        return files[0]

    def pending_spool(self) -> list[Path]:
        """Spool files waiting to be applied, oldest first."""
        return sorted(self.spool_dir.glob(f"*{spool.SUFFIX}")) if self.spool_dir.exists() else []

    def quarantined(self) -> list[tuple[str, str]]:
        """(file name, reason) of the spool files set aside because they cannot be replayed."""
        return spool.quarantined(self.spool_dir)

    def replay(self) -> int:
        """Apply every spool file (each exactly once, in order); return the ops applied.

        A file that cannot be replayed is quarantined and the others still apply.
        """
        applied = 0
        for file in self.pending_spool():
            try:
                applied += self._replay_file(file)
            except spool.SpoolError as exc:
                _set_aside(file, str(exc))
            except RecursionError as exc:  # a bound missed: still never blocks the next files
                _set_aside(file, f"corrupt: too deeply nested to replay ({exc})")
        return applied

    def _replay_file(self, file: Path) -> int:
        """Apply one spool file and its ledger row in one transaction, then delete it."""
        ops = spool.read(file, OPS)
        with writer(self.path, patience=self.patience) as con:
            done = retry_conflicts(lambda: _replay_in_transaction(con, file.name, ops), file.name)
        file.unlink(missing_ok=True)  # workers sharing a spool: another one may have removed it
        if done:
            log.info("spool file %s was already applied; removed", file.name)
            return 0
        log.info("applied %d spooled writes from %s", len(ops), file.name)
        return len(ops)


CONFLICT_RETRIES = 50


def commit_groups(ops: Sequence[WriteOp], max_ops: int, max_bytes: int) -> list[list[WriteOp]]:
    """Consecutive ops in groups of at most ``max_ops`` and about ``max_bytes`` (an op larger
    than that is a group of its own), in their order."""
    groups: list[list[WriteOp]] = []
    size = 0
    for op in ops:
        weight = op_bytes(op)
        if not groups or len(groups[-1]) >= max_ops or (groups[-1] and size + weight > max_bytes):
            groups.append([])
            size = 0
        groups[-1].append(op)
        size += weight
    return groups


def op_bytes(value: Any, depth: int = 0) -> int:
    """The approximate bytes an op's arguments hold (strings and bytes; containers walked)."""
    if isinstance(value, str | bytes | bytearray):
        return len(value)
    if depth > 8:
        return 8
    if isinstance(value, WriteOp):
        return sum(op_bytes(v, depth + 1) for v in value.args())
    if isinstance(value, dict):
        return sum(op_bytes(v, depth + 1) for v in value.values())
    if isinstance(value, list | tuple | set | frozenset):
        return sum(op_bytes(v, depth + 1) for v in value)
    if hasattr(value, "__dataclass_fields__"):
        return sum(op_bytes(getattr(value, f), depth + 1) for f in value.__dataclass_fields__)
    return 8


def retry_conflicts(write: Callable[[], T], what: str) -> T:
    """Run ``write`` (one whole transaction) again while it loses to a concurrent writer."""
    delay = 0.02
    for attempt in range(1, CONFLICT_RETRIES + 1):
        try:
            return write()
        except WriteConflict:
            if attempt == CONFLICT_RETRIES:
                raise
            log.info("write %s lost to a concurrent commit (attempt %d); running it again", what, attempt)
            time.sleep(delay * (1 + random.random()))
            delay = min(delay * 1.5, 1.0)
    raise AssertionError("unreachable")


def _in_transaction(con: duckdb.DuckDBPyConnection, op: WriteOp) -> Any:
    """One op in its own transaction."""
    with transaction(con):
        return op.apply(con)


def _all_in_transaction(con: duckdb.DuckDBPyConnection, ops: Sequence[WriteOp]) -> list[Any]:
    """Several ops in one transaction, in order (each sees what the earlier ones wrote; a run of
    ops of one class is applied together, set-wise where the class can); their results."""
    results: list[Any] = []
    with transaction(con):
        for _, run in itertools.groupby(ops, key=type):
            same = list(run)
            results.extend(type(same[0]).apply_many(con, same))
    return results


def _replay_in_transaction(con: duckdb.DuckDBPyConnection, file_name: str, ops: Sequence[WriteOp]) -> bool:
    """Apply a spool file's ops and its ledger row in one transaction; return whether it was done already."""
    with transaction(con):
        done = bool(query.rows(con, "spool_ledger_applied", {"spool_file": file_name}))
        if not done:
            for n, op in enumerate(ops, 1):
                _replay_one(con, op, f"write {n} of {len(ops)}")
            params = {"spool_file": file_name, "ops": len(ops), "applied_at": now_utc()}
            query.rows(con, "spool_ledger_record", params)
    return done


def _set_aside(file: Path, reason: str) -> None:
    """Quarantine a spool file; if even that fails, log it and leave the file for the next run."""
    try:
        spool.quarantine(file, reason)
    except OSError as exc:
        log.error("spool file %s cannot be replayed (%s) nor quarantined: %s", file, reason, exc)


def _replay_one(con: duckdb.DuckDBPyConnection, op: WriteOp, where: str) -> None:
    """Apply one spooled write; a write this warehouse cannot take raises SpoolError."""
    try:
        op.apply(con)
    except TRANSIENT_ERRORS:
        raise
    except (*REPLAY_ERRORS, ArithmeticError, LookupError, RecursionError) as exc:
        reason = " ".join(str(exc).split())[:300]
        raise spool.SpoolError(f"{op.op_name} ({where}) failed: {type(exc).__name__}: {reason}") from exc
