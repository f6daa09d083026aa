"""Warehouse writes and reads of the ingest stage (plain functions over a DuckDB connection).

Each function that writes does it in one transaction, so a killed process leaves either the
whole unit (a feed poll with its entries, an article with its document) or nothing.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import duckdb

from flows.sources import Source
from warehouse.db import insert_rows, query_text, transaction

DUPLICATE_MAX_BITS = 3  # the 4-band candidate query is exact up to 3 differing bits


def article_id_for(canonical_url: str) -> str:
    """Stable article id: first 16 hex digits of sha256(canonical URL)."""
    return hashlib.sha256(canonical_url.encode("utf-8")).hexdigest()[:16]


def q(con: duckdb.DuckDBPyConnection, name: str, **params: Any) -> list[tuple[Any, ...]]:
    """Run a named query from warehouse/queries with named parameters; return its rows."""
    cursor = con.execute(query_text(name), params)
    return cursor.fetchall() if cursor.description else []


def sync_sources(con: duckdb.DuckDBPyConnection, sources: Sequence[Source], now: datetime) -> None:
    """Upsert configured sources; mark the ones no longer configured inactive."""
    with transaction(con):
        for s in sources:
            q(
                con,
                "sync_source",
                id=s.id,
                name=s.name,
                feed_url=s.feed_url,
                country=s.country,
                language=s.language,
                kind=s.kind,
                affiliation=s.affiliation,
                opinion_only=s.opinion_only,
                config_json=s.config_json(),
                enabled=s.enabled,
                now=now,
            )
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
    with transaction(con):
        known = {row[0] for row in q(con, "known_guids", source_id=source_id)}
        fresh = [e for e in rec.entries if e["guid"] not in known]
        rec.fetch_row["entries_new"] = len(fresh)
        insert_rows(con, "feed_fetches", [rec.fetch_row])
        insert_rows(con, "entries", fresh, on_conflict="ON CONFLICT DO NOTHING")
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


def find_duplicate(
    con: duckdb.DuckDBPyConnection, text_hash: str, simhash: int, max_bits: int
) -> tuple[str, str] | None:
    """(article_id, 'exact' | 'near') of an earlier original this text duplicates, or None."""
    rows = q(con, "article_by_hash", text_hash=text_hash)
    if rows:
        return rows[0][0], "exact"
    bits = min(max_bits, DUPLICATE_MAX_BITS)
    for article_id, other in q(con, "simhash_candidates", simhash=simhash):
        if bin(int(other) ^ simhash).count("1") <= bits:
            return article_id, "near"
    return None


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
    now: datetime,
) -> str:
    """Write document, article and entry links in one transaction; return 'stored'|'duplicate'."""
    with transaction(con):
        if existing_article(con, article["canonical_url"]) is not None:
            state = "duplicate"
            article_id = existing_article(con, article["canonical_url"])
        else:
            if document is not None:
                insert_rows(con, "documents", [document], on_conflict="ON CONFLICT DO NOTHING")
            insert_rows(con, "articles", [article])
            state = "stored"
            article_id = article["article_id"]
        q(
            con,
            "entries_link_article",
            state=state,
            article_id=article_id,
            canonical_url=article["canonical_url"],
            now=now,
        )
    return state


def link_existing(con: duckdb.DuckDBPyConnection, canonical_url: str, article_id: str, now: datetime) -> None:
    """Mark pending entries whose canonical URL is already stored as duplicates of it."""
    with transaction(con):
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
    with transaction(con):
        q(
            con,
            "entries_fail",
            canonical_url=canonical_url,
            error_class=error_class,
            error=error[:2000],
            max_attempts=max_attempts,
            now=now,
        )


def start_run(
    con: duckdb.DuckDBPyConnection,
    flow: str,
    now: datetime,
    *,
    trigger: str = "manual",
    prefect_run_id: str | None = None,
    model_version: str | None = None,
) -> int:
    """Close runs of this flow left open by a killed process, open a new one, return its id."""
    with transaction(con):
        q(con, "run_interrupted", flow=flow, now=now)
        rows = q(
            con,
            "run_start",
            flow=flow,
            trigger=trigger,
            prefect_run_id=prefect_run_id,
            now=now,
            model_version=model_version,
        )
    return int(rows[0][0])


def finish_run(con: duckdb.DuckDBPyConnection, run_id: int, now: datetime, **counts: Any) -> None:
    """Close a run row with its funnel counts, failures by class and outcome."""
    fields = (
        "outcome",
        "feeds_polled",
        "feeds_failed",
        "discovered",
        "fetched",
        "extracted",
        "duplicates",
        "scored",
        "failed",
        "failures_json",
        "message",
    )
    params = {name: counts.get(name) for name in fields}
    with transaction(con):
        q(con, "run_finish", run_id=run_id, now=now, **params)
