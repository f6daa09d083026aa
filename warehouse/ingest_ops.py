"""Warehouse writes and reads of the ingest stage (plain functions over a DuckDB connection).

Write functions are registered sink operations (``warehouse.ops.op``): the sink runs each one in
its own transaction, so a killed process leaves either the whole unit (a feed poll with its
entries, an article with its document and entry links) or nothing.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import duckdb

from warehouse import lsh as neardup
from warehouse.article_batch import ArticleWrite, store_articles
from warehouse.db import insert_rows, query_text, registered
from warehouse.ops import WriteOp, record, write_op


def article_id_for(canonical_url: str) -> str:
    """Stable article id: first 16 hex digits of sha256(canonical URL)."""
    return hashlib.sha256(canonical_url.encode("utf-8")).hexdigest()[:16]


def q(con: duckdb.DuckDBPyConnection, query: str, /, **params: Any) -> list[tuple[Any, ...]]:
    """Run a named query from warehouse/queries with named parameters; return its rows."""
    cursor = con.execute(query_text(query), params)
    return cursor.fetchall() if cursor.description else []


def sync_sources(con: duckdb.DuckDBPyConnection, rows: Sequence[dict[str, Any]], now: datetime) -> None:
    """Upsert configured sources (one statement); mark the ones no longer configured inactive."""
    if rows:
        with registered(con, "configured_sources", "sources", [{**r, "synced_at": now} for r in rows]):
            q(con, "sync_sources")
    q(con, "deactivate_missing_sources", now=now)


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
    rows = q(con, "due_sources", now=now, interval_us=int(interval_minutes * 60_000_000))
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


def record_poll(con: duckdb.DuckDBPyConnection, source_id: str, rec: PollRecord, now: datetime) -> int:
    """Write one poll (attempt row, new entries, source state) atomically; return entries added."""
    known = {row[0] for row in q(con, "known_guids", source_id=source_id)}
    fresh = [e for e in rec.entries if e["guid"] not in known]
    rec.fetch_row["entries_new"] = len(fresh)
    insert_rows(con, "feed_fetches", [rec.fetch_row])
    insert_rows(con, "entries", fresh, skip_existing=("source_id", "guid"))
    q(
        con,
        "source_after_poll",
        source_id=source_id,
        now=now,
        ok=rec.ok,
        etag=rec.etag,
        last_modified=rec.last_modified,
        moved_to=rec.moved_to,
        disable_reason=rec.disable_reason,
        backoff_until=rec.backoff_until,
    )
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
    rows = q(con, "pending_entries", max_attempts=max_attempts, before=before, limit=limit)
    return [PendingEntry(*row) for row in rows]


def existing_article(con: duckdb.DuckDBPyConnection, canonical_url: str) -> str | None:
    """The article id already stored under this canonical URL, if any."""
    rows = q(con, "article_by_url", canonical_url=canonical_url)
    return rows[0][0] if rows else None


def existing_articles(con: duckdb.DuckDBPyConnection, canonical_urls: Sequence[str]) -> dict[str, str]:
    """The article id stored under each of these canonical URLs, where there is one (one query)."""
    if not canonical_urls:
        return {}
    return dict(q(con, "articles_by_urls", urls=sorted(set(canonical_urls))))


def find_duplicate(
    con: duckdb.DuckDBPyConnection, text_hash: str, fingerprint: bytes, threshold: float
) -> tuple[str, str, float] | None:
    """(article_id, 'exact' | 'near', resemblance) of the earliest original this text copies."""
    rows = q(con, "article_by_hash", text_hash=text_hash)
    if rows:
        return rows[0][0], "exact", 1.0
    sig = neardup.from_bytes(fingerprint)
    for article_id, other in near_candidates(con, neardup.bands(sig)):
        score = neardup.resemblance(sig, neardup.from_bytes(other))
        if score >= threshold:
            return article_id, "near", score
    return None


def near_candidates(
    con: duckdb.DuckDBPyConnection, bands: Sequence[tuple[int, int]]
) -> list[tuple[str, bytes]]:
    """(article_id, fingerprint) of the originals sharing a (band, bucket) pair, earliest first."""
    wanted = set(bands)
    rows = q(con, "neardup_candidates", buckets=bucket_text(bands))
    ids = sorted({article_id for band, bucket, article_id in rows if (band, bucket) in wanted})
    return [(row[0], row[1]) for row in q(con, "originals_by_id", ids=ids)] if ids else []


def bucket_text(bands: Sequence[tuple[int, int]]) -> str:
    """The buckets of (band, bucket) pairs in band order, as the band queries take them."""
    return " ".join(str(int(bucket)) for _, bucket in sorted(bands))


def compress_html(body: bytes) -> bytes:
    """Compress a raw page for the documents table (zlib, level 6)."""
    return zlib.compress(body, 6)


def document_row(
    url: str,
    final_url: str,
    status: int | None,
    headers: Mapping[str, str],
    body: bytes,
    encoding: str | None,
    now: datetime,
) -> dict[str, Any]:
    """The documents row of one fetched page (raw HTML kept, compressed)."""
    return {
        "document_id": hashlib.sha256(final_url.encode("utf-8")).hexdigest()[:16],
        "url": url,
        "final_url": final_url,
        "status_code": status,
        "headers_json": json.dumps(dict(headers), sort_keys=True, ensure_ascii=False),
        "content_type": headers.get("content-type"),
        "encoding": encoding,
        "raw_html": compress_html(body),
        "compression": "zlib",
        "raw_bytes": len(body),
        "fetched_at": now,
    }


def store_article(
    con: duckdb.DuckDBPyConnection,
    article: dict[str, Any],
    document: dict[str, Any] | None,
    entry_url: str,
    threshold: float,
    now: datetime,
) -> str:
    """Store one article with its document and links from the entries of ``entry_url`` (their
    canonical feed link): 'stored', 'duplicate' (exact or near copy of an earlier original:
    stored, marked duplicate_of) or 'known' (its canonical URL is already stored)."""
    known = existing_article(con, article["canonical_url"])
    if known is not None:
        q(con, "entries_link_article", state="duplicate", article_id=known, canonical_url=entry_url, now=now)
        return "known"
    dup = find_duplicate(con, article["text_hash"], article["fingerprint"], threshold)
    article = {
        **article,
        "duplicate_of": dup[0] if dup else None,
        "duplicate_kind": dup[1] if dup else None,
        "resemblance": dup[2] if dup else None,
    }
    # the entry UPDATE first: on a DuckLake an UPDATE after this transaction's inserts costs ~5x
    q(
        con,
        "entries_link_article",
        state="stored",
        article_id=article["article_id"],
        canonical_url=entry_url,
        now=now,
    )
    if document is not None and not q(con, "document_by_id", document_id=document["document_id"]):
        insert_rows(con, "documents", [document])
    insert_rows(con, "articles", [article])
    if dup is None:  # only originals are candidates for later copies
        bands = neardup.bands(neardup.from_bytes(article["fingerprint"]))
        q(con, "insert_bands", buckets=bucket_text(bands), article_id=article["article_id"])
    return "duplicate" if dup else "stored"


def link_existing(con: duckdb.DuckDBPyConnection, canonical_url: str, article_id: str, now: datetime) -> None:
    """Mark pending entries whose canonical URL is already stored as duplicates of it."""
    q(
        con,
        "entries_link_article",
        state="duplicate",
        article_id=article_id,
        canonical_url=canonical_url,
        now=now,
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
    q(
        con,
        "entries_fail",
        canonical_url=canonical_url,
        error_class=error_class,
        error=error[:2000],
        max_attempts=max_attempts,
        now=now,
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


@write_op("store_article")
@dataclass(frozen=True)
class StoreArticle(WriteOp):
    """One article with its document, linked from the entries of its feed link (one transaction)."""

    article: dict[str, Any]
    document: dict[str, Any] | None
    entry_url: str
    threshold: float
    now: datetime

    def apply(self, con: duckdb.DuckDBPyConnection) -> str:
        """store_article: 'stored', 'duplicate' or 'known'."""
        return store_article(con, self.article, self.document, self.entry_url, self.threshold, self.now)

    @classmethod
    def apply_many(cls, con: duckdb.DuckDBPyConnection, ops: Sequence[Any]) -> list[Any]:
        """A batch of articles in a few statements (warehouse.article_batch), as if one by one."""
        if len(ops) == 1:
            return [ops[0].apply(con)]
        writes = [ArticleWrite(o.article, o.document, o.entry_url, o.threshold, o.now) for o in ops]
        return list(store_articles(con, writes))


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
