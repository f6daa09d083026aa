"""The web app's access to the warehouse: short read-only windows, a small result cache, label writes.

DuckDB lets one process write while nobody else has the file open, so the app never keeps the
file open: every read opens a read-only connection, runs its queries and closes it. Results are
cached for a few seconds, so a busy dashboard costs the pipeline almost no lock time; while the
pipeline holds the write lock, a cached (stale) result is served instead of waiting. Reads and
the app's own label writes take one process-wide lock (DuckDB refuses a read-only and a
read-write connection to one file in the same process).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import duckdb

from flows.web.cache import BoundedCache
from warehouse.alerts_ops import AlertError, AlertEvent, event_row
from warehouse.db import Location, WarehouseLocked, now_utc, reader, writer
from warehouse.labels_ops import AddLabel, AddLabelForPassage, label_row
from warehouse.session import use_timezone
from warehouse.sink import Sink

log = logging.getLogger(__name__)
T = TypeVar("T")
Rows = list[dict[str, Any]]


@dataclass
class WebStore:
    """Reads (cached, read-only, short) and label writes (through the sink) for one warehouse."""

    path: Location
    sink: Sink
    timezone: str = "Asia/Seoul"
    ttl: float = 5.0
    read_patience: float = 10.0
    write_patience: float = 1.0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _cache: BoundedCache = field(default_factory=BoundedCache)
    pending: list[dict[str, Any]] = field(default_factory=list)

    def prepare(self) -> str:
        """Create/migrate the warehouse once (labels table and views); say what happened."""
        with self._lock:
            try:
                with writer(self.path, patience=self.write_patience):
                    return "migrated"
            except WarehouseLocked as exc:
                return f"not migrated now ({exc.holder} holds the warehouse)"

    def read(
        self,
        key: Hashable,
        fn: Callable[[duckdb.DuckDBPyConnection], T],
        *,
        fresh: bool = False,
        patience: float | None = None,
    ) -> T:
        """``fn(con)`` on a read-only connection, cached for ``ttl`` seconds under ``key``.

        An expired result is refreshed only when no other read holds the warehouse; meanwhile (and
        while the pipeline holds the write lock) the expired result is served.
        """
        hit = None if fresh else self._cache.get(key)
        if hit and time.monotonic() - hit[0] < self.ttl:
            return hit[1]  # type: ignore[no-any-return]
        if not self._lock.acquire(blocking=hit is None):
            return hit[1]  # type: ignore[index,no-any-return]  # another read is running: serve the stale copy
        try:
            try:
                value = self._run(fn, patience=0.0 if hit else self._patience(patience))
            except WarehouseLocked:
                if hit is None:
                    raise
                return hit[1]  # type: ignore[no-any-return]  # the pipeline is writing: serve the stale copy
            self._cache[key] = (time.monotonic(), value)
            return value
        finally:
            self._lock.release()

    def _patience(self, asked: float | None) -> float:
        """Seconds a read waits for the lock: as asked, else the store's read patience."""
        return self.read_patience if asked is None else asked

    def peek(self, key: Hashable) -> Any:
        """The cached result under ``key`` if it is still fresh, else None (no lock, no thread)."""
        hit = self._cache.get(key)
        return hit[1] if hit and time.monotonic() - hit[0] < self.ttl else None

    def stamp(self, key: Hashable) -> float | None:
        """When the cached result under ``key`` was read (None if there is none)."""
        hit = self._cache.get(key)
        return hit[0] if hit else None

    def _run(self, fn: Callable[[duckdb.DuckDBPyConnection], T], patience: float) -> T:
        """Open read-only, set the week time zone, run ``fn``, close."""
        with reader(self.path, patience=patience) as con:
            use_timezone(con, self.timezone)
            return fn(con)

    def add_label(self, **fields: Any) -> bool:
        """Store one label through the sink; False when it was spooled (the warehouse was busy)."""
        return self._write(AddLabel(label_row(now=now_utc(), **fields)))

    def queue_label(self, **fields: Any) -> bool:
        """Store a label whose passage could not be read (the warehouse was locked): the write reads
        the passage itself, now or when its spool file is replayed; False when it was spooled."""
        return self._write(AddLabelForPassage(label_row(now=now_utc(), passage_text="", **fields)))

    def _write(self, op: AddLabel | AddLabelForPassage) -> bool:
        """Apply one label write through the sink; then replay what earlier labels left in the spool."""
        with self._lock:
            self.sink.patience = self.write_patience
            self.sink.locked_by = None
            done = self.sink.apply([op])
            if done is not None and self.pending:
                self.sink.replay()  # this process's spooled labels, each exactly once (ledger)
                self.pending.clear()
        self._cache.clear()
        if done is None:
            self.pending.append(op.row)
            log.warning(
                "label %s spooled: the warehouse is locked by %s", op.row["label_id"], self.sink.locked_by
            )
            return False
        if isinstance(done[0], Exception):
            raise done[0]
        return True

    def alert_event(self, alert_id: str, action: str, analyst: str) -> None:
        """Store an analyst's action on an alert through the sink (AlertError when it cannot be)."""
        row = event_row(alert_id, action, analyst, now_utc())
        with self._lock:
            self.sink.patience = self.write_patience
            self.sink.locked_by = None
            done = self.sink.apply([AlertEvent(row)])
        self._cache.clear()
        if done is not None and isinstance(done[0], Exception):
            raise AlertError(str(done[0]))

    def pending_keys(self, analyst: str) -> set[str]:
        """Passages this analyst labelled in this session whose labels wait in the spool."""
        return {f"{r['article_id']}:{r['ordinal']}" for r in self.pending if r["analyst"] == analyst}
