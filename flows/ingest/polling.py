"""Feeds → entries: poll the due feeds of a batch concurrently, record each poll in one transaction.

A poll writes its attempt (``feed_fetches``), the entries it discovered and the source's new
state (validators, moved URL, failures and back-off) as one ``record_poll`` operation.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from flows.ingest.counts import IngestCounts
from flows.ingest.feeds import ParsedFeed, parse_feed
from flows.ingest.fetch import Fetcher, FetchResult
from flows.ingest.sources import load_sources
from flows.ingest.text import canonical_url
from flows.settings import Settings
from models.textclean import clean_optional
from warehouse import ingest_ops as store
from warehouse.db import WarehouseLocked, now_utc
from warehouse.ingest_ops import RecordPoll, SyncSources
from warehouse.poll_ops import RecordPolls
from warehouse.sink import Sink

FEED_ACCEPT = "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
FEED_BATCH = 100  # feeds per poll task and per write transaction (Prefect task overhead, commits)
log = logging.getLogger(__name__)


def prepare_sources(settings: Settings, sink: Sink) -> list[store.DueSource]:
    """Apply writes spooled by earlier runs, sync sources.toml, list the sources due now."""
    sources = load_sources(settings.sources_file)
    try:
        sink.replay()
    except WarehouseLocked as exc:
        log.warning("spooled writes stay aside: %s", exc)
    sink.apply([SyncSources([s.row() for s in sources], now_utc())])
    with sink.read() as con:
        return store.due_sources(con, now_utc(), settings.poll_interval_minutes)


def entry_rows(source_id: str, parsed: ParsedFeed, run_id: int | None) -> list[dict[str, Any]]:
    """Rows for the entries table from a parsed feed."""
    now = now_utc()
    return [
        {
            "source_id": source_id,
            "guid": e.guid[:2000],
            "url": e.url,
            "canonical_url": canonical_url(e.url),
            "title": clean_optional(e.title),
            "author": clean_optional(e.author),
            "published_at": e.published_at,
            "feed_content": clean_optional(e.content_html),
            "discovered_at": now,
            "run_id": run_id,
            "state": "new",
            "attempts": 0,
        }
        for e in parsed.entries
    ]


def poll_record(
    settings: Settings, due: store.DueSource, result: FetchResult, run_id: int | None
) -> store.PollRecord:
    """Turn one feed fetch into what the warehouse records (attempt, entries, source state)."""
    now = now_utc()
    row: dict[str, Any] = {
        "fetch_id": store.new_fetch_id(),
        "run_id": run_id,
        "source_id": due.source_id,
        "url": due.url,
        "final_url": result.final_url,
        "started_at": now,
        "duration_ms": result.elapsed_ms,
        "status_code": result.status_code,
        "error_class": result.error_class,
        "error_message": result.error_message,
        "etag": result.headers.get("etag"),
        "last_modified": result.headers.get("last-modified"),
        "bytes": len(result.body),
        "not_modified": result.not_modified,
        "entries_seen": 0,
        "parse_warning": None,
    }
    rec = store.PollRecord(fetch_row=row, entries=[], ok=False)
    if result.permanent_redirect and result.permanent_redirect != due.url:
        rec.moved_to = result.permanent_redirect
    if result.not_modified:
        rec.ok = True
    elif result.ok:
        parsed = parse_feed(
            result.body, result.headers, result.final_url, max_entries=settings.max_entries_per_feed
        )
        row["entries_seen"] = len(parsed.entries)
        row["parse_warning"] = parsed.warning
        if parsed.error_class:
            row["error_class"], row["error_message"] = parsed.error_class, parsed.error_message
        else:
            rec.ok = True
            rec.entries = entry_rows(due.source_id, parsed, run_id)
            rec.etag, rec.last_modified = row["etag"], row["last_modified"]
    if result.status_code == 410:
        rec.disable_reason = f"feed answered 410 Gone at {result.final_url}"
    if not rec.ok:
        rec.backoff_until = _backoff(settings, due.consecutive_failures + 1, result.retry_after, now)
    return rec


def _backoff(settings: Settings, failures: int, retry_after: float | None, now: Any) -> Any:
    """When a failing source may be polled again: exponential after N failures, or Retry-After."""
    until = store.backoff_until(
        now,
        failures,
        settings.failure_backoff_after,
        settings.failure_backoff_minutes,
        settings.max_backoff_minutes,
    )
    if retry_after:
        later = now + timedelta(seconds=retry_after)
        until = max(until or later, later)
    return until


def poll_feeds(
    settings: Settings, due: Sequence[store.DueSource], fetcher: Fetcher, sink: Sink, run_id: int | None
) -> IngestCounts:
    """Poll a batch of feeds concurrently, then record the polls (one transaction per batch)."""

    def one(d: store.DueSource) -> FetchResult:
        return fetcher.fetch(d.url, etag=d.etag, last_modified=d.last_modified, accept=FEED_ACCEPT)

    counts = IngestCounts()
    if not due:
        return counts
    with ThreadPoolExecutor(max_workers=max(1, min(settings.fetch_workers, len(due)))) as pool:
        results = list(pool.map(one, due))
    records = [poll_record(settings, d, r, run_id) for d, r in zip(due, results, strict=True)]
    outcomes = record_batch(sink, [(d.source_id, rec) for d, rec in zip(due, records, strict=True)])
    for n, rec in enumerate(records):
        counts.feeds_polled += 1
        counts.not_modified += bool(rec.fetch_row["not_modified"])
        if not rec.ok:
            counts.feeds_failed += 1
            counts.failures[f"feed:{rec.fetch_row['error_class']}"] += 1
        if outcomes is None:
            counts.spooled += 1
        elif isinstance(outcomes[n], int):
            counts.discovered += outcomes[n]
    return counts


def record_batch(sink: Sink, polls: list[tuple[str, store.PollRecord]]) -> list[Any] | None:
    """Record a batch of polls in one transaction; if that fails, each in its own, so one bad
    record costs only itself. One outcome per poll, or None when spooled."""
    now = now_utc()
    outcome = sink.apply([RecordPolls(polls, now)])
    if outcome is None or not isinstance(outcome[0], BaseException):
        return None if outcome is None else list(outcome[0])
    return sink.apply([RecordPoll(source_id, rec, now) for source_id, rec in polls])
