"""Warehouse writes and reads of the ingest stage around articles: sources, feed polls, entries.

Writes are registered sink operations (``warehouse.ops.write_op``): the sink runs each one in its
own transaction, so a killed process leaves either the whole unit (a feed poll with its entries)
or nothing. Storing an article is ``warehouse.article_ops``.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import duckdb

from warehouse import query
from warehouse.db import insert_rows, registered
from warehouse.ops import WriteOp, record, write_op


def sync_sources(con: duckdb.DuckDBPyConnection, rows: Sequence[dict[str, Any]], now: datetime) -> None:
    """Upsert configured sources (one statement); mark the ones no longer configured inactive."""
    if rows:
        with registered(con, "configured_sources", "sources", [{**r, "synced_at": now} for r in rows]):
            query.rows(con, "sync_sources")
    query.rows(con, "deactivate_missing_sources", {"now": now})


@dataclass(frozen=True)
class DueSource:
    """A source to poll now, with its conditional-request validators."""

    source_id: str
    url: str
    etag: str | None
    last_modified: str | None
    consecutive_failures: int


def due_sources(con: duckdb.DuckDBPyConnection, now: datetime, interval_minutes: float) -> list[DueSource]:
    """Sources that are active, enabled, not backing off and not polled within the interval."""
    rows = query.rows(con, "due_sources", {"now": now, "interval_us": int(interval_minutes * 60_000_000)})
    return [DueSource(*row) for row in rows]


@record("poll_record")
@dataclass
class PollRecord:
    """Everything one feed poll writes: the attempt, new entries and the source's new state."""

    fetch_row: dict[str, Any]
    entries: list[dict[str, Any]]
    ok: bool
    etag: str | None = None
    last_modified: str | None = None
    moved_to: str | None = None
    disable_reason: str | None = None
    backoff_until: datetime | None = None

    def source_state(self, source_id: str) -> dict[str, Any]:
        """The source's new state after this poll, as the parameters of its UPDATE."""
        return {
            "source_id": source_id,
            "ok": self.ok,
            "etag": self.etag,
            "last_modified": self.last_modified,
            "moved_to": self.moved_to,
            "disable_reason": self.disable_reason,
            "backoff_until": self.backoff_until,
        }


def record_poll(con: duckdb.DuckDBPyConnection, source_id: str, rec: PollRecord, now: datetime) -> int:
    """Write one poll (attempt row, new entries, source state) atomically; return entries added."""
    known = {row[0] for row in query.rows(con, "known_guids", {"source_id": source_id})}
    fresh = [e for e in rec.entries if e["guid"] not in known]
    rec.fetch_row["entries_new"] = len(fresh)
    insert_rows(con, "feed_fetches", [rec.fetch_row])
    insert_rows(con, "entries", fresh, skip_existing=("source_id", "guid"))
    query.rows(con, "source_after_poll", {**rec.source_state(source_id), "now": now})
    return len(fresh)


def backoff_until(
    now: datetime, failures: int, after: int, base_minutes: float, max_minutes: float
) -> datetime | None:
    """When a source with ``failures`` consecutive failures may be polled again (None: now)."""
    if failures < after:
        return None
    minutes = min(base_minutes * 2 ** (failures - after), max_minutes)
    return now + timedelta(minutes=minutes)


@dataclass(frozen=True)
class PendingEntry:
    """A discovered feed item whose page has not been stored yet."""

    source_id: str
    guid: str
    url: str
    canonical_url: str
    title: str | None
    author: str | None
    published_at: datetime | None
    feed_content: str | None
    attempts: int
    source_language: str


def pending_entries(
    con: duckdb.DuckDBPyConnection, max_attempts: int, before: datetime, limit: int = 100_000
) -> list[PendingEntry]:
    """Entries still to fetch (new, or failed with attempts left, not tried since ``before``)."""
    rows = query.rows(
        con, "pending_entries", {"max_attempts": max_attempts, "before": before, "limit": limit}
    )
    return [PendingEntry(*row) for row in rows]


def link_existing(con: duckdb.DuckDBPyConnection, canonical_url: str, article_id: str, now: datetime) -> None:
    """Mark pending entries whose canonical URL is already stored as duplicates of it."""
    query.rows(
        con,
        "entries_link_article",
        {"state": "duplicate", "article_id": article_id, "canonical_url": canonical_url, "now": now},
    )


def fail_entries(
    con: duckdb.DuckDBPyConnection,
    canonical_url: str,
    error_class: str,
    error: str,
    max_attempts: int,
    now: datetime,
) -> None:
    """Record a failed page attempt for the entries of one canonical URL."""
    query.rows(
        con,
        "entries_fail",
        {
            "canonical_url": canonical_url,
            "error_class": error_class,
            "error": error[:2000],
            "max_attempts": max_attempts,
            "now": now,
        },
    )


def new_fetch_id() -> int:
    """A feed_fetches id made by the client: microseconds since the epoch times 1024 plus 10 random
    bits (time-ordered, unique across concurrent writers without a sequence, which a DuckLake lacks)."""
    return time.time_ns() // 1000 * 1024 + secrets.randbits(10)


@write_op("sync_sources")
@dataclass(frozen=True)
class SyncSources(WriteOp):
    """Upsert the sources file's outlets and feeds; sources no longer listed are deactivated."""

    rows: Sequence[dict[str, Any]]
    now: datetime

    def apply(self, con: duckdb.DuckDBPyConnection) -> None:
        """sync_sources."""
        sync_sources(con, self.rows, self.now)


@write_op("record_poll")
@dataclass(frozen=True)
class RecordPoll(WriteOp):
    """One feed poll: its fetch row, the source's state and its new entries."""

    source_id: str
    rec: PollRecord
    now: datetime

    def apply(self, con: duckdb.DuckDBPyConnection) -> int:
        """record_poll."""
        return record_poll(con, self.source_id, self.rec, self.now)


@write_op("link_existing")
@dataclass(frozen=True)
class LinkExisting(WriteOp):
    """Entries whose canonical URL is already stored become duplicates of that article."""

    canonical_url: str
    article_id: str
    now: datetime

    def apply(self, con: duckdb.DuckDBPyConnection) -> None:
        """link_existing."""
        link_existing(con, self.canonical_url, self.article_id, self.now)


@write_op("fail_entries")
@dataclass(frozen=True)
class FailEntries(WriteOp):
    """A failed attempt at the page of these entries (given up after ``max_attempts``)."""

    canonical_url: str
    error_class: str
    error: str
    max_attempts: int
    now: datetime

    def apply(self, con: duckdb.DuckDBPyConnection) -> None:
        """fail_entries."""
        fail_entries(con, self.canonical_url, self.error_class, self.error, self.max_attempts, self.now)
