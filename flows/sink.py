"""Every pipeline write goes through a Sink, so a locked warehouse never costs data.

DuckDB lets one process write while nobody else has the file open. An analyst's session
(duckdb CLI, notebook, `axiswatch sql`) can hold the file through a scheduled run. The sink
waits for the lock with backoff (``lock_patience_seconds``), logging who holds it; if the lock
outlasts that, it keeps the run's writes aside in a spool file under ``data_dir/spool`` and the
next run applies them first, exactly once (a ledger row is committed in the same transaction).
A write is a list of named operations (``OPS``), each a plain function of store modules.
"""

from __future__ import annotations

import logging
import os
import pickle
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb

from flows.settings import Settings
from warehouse import health
from warehouse.db import StorageFault, WarehouseLocked, now_utc, reader, refresh_fts, transaction, writer

log = logging.getLogger(__name__)

Op = tuple[str, tuple[Any, ...]]
OPS: dict[str, Callable[..., Any]] = {}


def op(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a write operation under a stable name (spool files refer to it by name)."""

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        OPS[name] = fn
        return fn

    return register


op("refresh_fts")(refresh_fts)


class Sink:
    """Applies named write operations to the warehouse, spooling them while it is locked."""

    def __init__(self, settings: Settings) -> None:
        """Bind to one warehouse and its spool directory."""
        self.path = settings.warehouse_path
        self.patience = settings.lock_patience_seconds
        self.spool_dir = settings.spool_dir
        self.spooled = 0
        self.locked_by: str | None = None

    def apply(self, ops: Sequence[Op]) -> list[Any] | None:
        """Apply ops in one short write window, each in its own transaction.

        Returns one result per op (an exception object for an op that failed and was rolled
        back alone), or None when the warehouse stayed locked and the ops were spooled.
        """
        if not ops:
            return []
        patience = 0.0 if self.locked_by else self.patience
        try:
            with writer(self.path, patience=patience) as con:
                self.locked_by = None
                return [self._one(con, name, args) for name, args in ops]
        except WarehouseLocked as exc:
            self.locked_by = exc.holder
            self._spool(ops)
            return None

    def _one(self, con: duckdb.DuckDBPyConnection, name: str, args: tuple[Any, ...]) -> Any:
        """Run one op in its own transaction; a failure is logged, rolled back and returned, but a
        storage fault (I/O error, full disk, failed commit or rollback) stops the run."""
        try:
            with transaction(con):
                return OPS[name](con, *args)
        except (duckdb.Error, ValueError, KeyError) as exc:
            fault = health.describe(exc, self.path)
            if fault:
                raise StorageFault(fault) from exc
            log.error("write %s failed and was rolled back: %s", name, exc)
            return exc

    @contextmanager
    def read(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-only connection (works while an analyst holds a read-only session)."""
        if not self.path.exists():
            with writer(self.path, patience=self.patience):
                pass  # create and migrate an empty warehouse first
        with reader(self.path, patience=self.patience) as con:
            yield con

    def _spool(self, ops: Sequence[Op]) -> Path:
        """Write ops to a new spool file atomically (temp file, fsync, rename)."""
        self.spool_dir.mkdir(parents=True, exist_ok=True)
        name = f"{time.time_ns():020d}-{uuid.uuid4().hex[:8]}.spool"
        tmp = self.spool_dir / (name + ".tmp")
        with tmp.open("wb") as fh:
            pickle.dump(list(ops), fh, protocol=pickle.HIGHEST_PROTOCOL)
            fh.flush()
            os.fsync(fh.fileno())
        tmp.rename(self.spool_dir / name)
        self.spooled += len(ops)
        log.warning(
            "warehouse %s locked by %s: %d writes kept in %s for the next run",
            self.path,
            self.locked_by,
            len(ops),
            self.spool_dir / name,
        )
        return self.spool_dir / name

    def pending_spool(self) -> list[Path]:
        """Spool files waiting to be applied, oldest first."""
        return sorted(self.spool_dir.glob("*.spool")) if self.spool_dir.exists() else []

    def replay(self) -> int:
        """Apply every spool file (each exactly once, in order); return the ops applied."""
        applied = 0
        for file in self.pending_spool():
            with file.open("rb") as fh:
                ops: list[Op] = pickle.load(fh)
            with writer(self.path, patience=self.patience) as con, transaction(con):
                done = con.execute("SELECT 1 FROM spool_ledger WHERE spool_file = ?", [file.name]).fetchall()
                if not done:
                    for name, args in ops:
                        OPS[name](con, *args)
                    con.execute("INSERT INTO spool_ledger VALUES (?, ?, ?)", [file.name, len(ops), now_utc()])
                    applied += len(ops)
            file.unlink()
            log.info("applied %d spooled writes from %s", len(ops), file.name)
        return applied
