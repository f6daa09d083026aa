"""The ingest stage: poll due feeds, discover entries, fetch and extract pages, store articles.

Plain functions do the work (tested on their own); ``ingest_flow`` wraps them in Prefect tasks
that work on batches (a batch of feeds, a batch of pages).
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from flows import store
from flows.extract import Extracted, ExtractionError, Extractor, text_from_feed_content
from flows.feeds import ParsedFeed, parse_feed
from flows.fetch import Fetcher, FetchResult
from flows.settings import Settings
from flows.sources import load_sources
from flows.textutil import canonical_url, detect_script_language, simhash, text_hash
from warehouse.db import now_utc, writer

FEED_ACCEPT = "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
FEED_BATCH = 20
log = logging.getLogger(__name__)


@dataclass
class IngestCounts:
    """Funnel counts of an ingest run (or of one batch of it)."""

    feeds_polled: int = 0
    feeds_failed: int = 0
    not_modified: int = 0
    discovered: int = 0
    fetched: int = 0
    extracted: int = 0
    duplicates: int = 0
    failed: int = 0
    failures: Counter[str] = field(default_factory=Counter)

    def add(self, other: IngestCounts) -> None:
        """Add another batch's counts to these."""
        for name in (
            "feeds_polled",
            "feeds_failed",
            "not_modified",
            "discovered",
            "fetched",
            "extracted",
            "duplicates",
            "failed",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.failures.update(other.failures)

    def as_run_fields(self) -> dict[str, Any]:
        """Columns of the runs table these counts fill."""
        failed_any = self.failed or self.feeds_failed
        return {
            "feeds_polled": self.feeds_polled,
            "feeds_failed": self.feeds_failed,
            "discovered": self.discovered,
            "fetched": self.fetched,
            "extracted": self.extracted,
            "duplicates": self.duplicates,
            "failed": self.failed,
            "failures_json": json.dumps(dict(sorted(self.failures.items()))),
            "outcome": "partial" if failed_any else "ok",
        }


# ---------------------------------------------------------------- feeds


def entry_rows(source_id: str, parsed: ParsedFeed, run_id: int | None) -> list[dict[str, Any]]:
    """Rows for the entries table from a parsed feed."""
    now = now_utc()
    return [
        {
            "source_id": source_id,
            "guid": e.guid[:2000],
            "url": e.url,
            "canonical_url": canonical_url(e.url),
            "title": e.title,
            "author": e.author,
            "published_at": e.published_at,
            "feed_content": e.content_html,
            "discovered_at": now,
            "run_id": run_id,
            "state": "new",
            "attempts": 0,
        }
        for e in parsed.entries
    ]


def poll_record(
    settings: Settings, due: store.DueSource, result: FetchResult, run_id: int | None
) -> PollRecord:
    """Turn one feed fetch into what the warehouse records (attempt, entries, source state)."""
    now = now_utc()
    row: dict[str, Any] = {
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
            row["error_class"], row["error_message"] = (parsed.error_class, parsed.error_message)
        else:
            rec.ok = True
            rec.entries = entry_rows(due.source_id, parsed, run_id)
            rec.etag, rec.last_modified = row["etag"], row["last_modified"]
    if result.status_code == 410:
        rec.disable_reason = f"feed answered 410 Gone at {result.final_url}"
    if not rec.ok:
        failures = due.consecutive_failures + 1
        rec.backoff_until = store.backoff_until(
            now,
            failures,
            settings.failure_backoff_after,
            settings.failure_backoff_minutes,
            settings.max_backoff_minutes,
        )
        if result.retry_after and result.retry_after > settings.max_retry_after_seconds:
            from datetime import timedelta

            later = now + timedelta(seconds=result.retry_after)
            rec.backoff_until = max(rec.backoff_until or later, later)
    return rec


PollRecord = store.PollRecord


def poll_feeds(
    settings: Settings, due: Sequence[store.DueSource], fetcher: Fetcher, run_id: int | None
) -> IngestCounts:
    """Poll a batch of feeds concurrently, then record each poll in its own transaction."""

    def one(d: store.DueSource) -> FetchResult:
        return fetcher.fetch(d.url, etag=d.etag, last_modified=d.last_modified, accept=FEED_ACCEPT)

    with ThreadPoolExecutor(max_workers=max(1, min(settings.fetch_workers, len(due) or 1))) as pool:
        results = list(pool.map(one, due))
    counts = IngestCounts()
    records = [(d, poll_record(settings, d, r, run_id)) for d, r in zip(due, results, strict=True)]
    with writer(settings.warehouse_path, patience=settings.lock_patience_seconds) as con:
        for d, rec in records:
            counts.feeds_polled += 1
            counts.discovered += store.record_poll(con, d.source_id, rec, now_utc())
            if rec.fetch_row["not_modified"]:
                counts.not_modified += 1
            if not rec.ok:
                counts.feeds_failed += 1
                counts.failures[f"feed:{rec.fetch_row['error_class']}"] += 1
    return counts


# ---------------------------------------------------------------- pages


def _choose_text(
    extracted: Extracted | ExtractionError | None, feed_content: str | None, min_chars: int
) -> tuple[str, str, Extracted | None] | None:
    """Pick the article text: the page's, or the feed's full content when the page is thinner."""
    feed_text = text_from_feed_content(feed_content) if feed_content else ""
    page = extracted if isinstance(extracted, Extracted) else None
    page_text = page.text if page else ""
    if len(feed_text) > max(len(page_text) * 1.2, min_chars - 1):
        return feed_text, "feed_content", page
    if len(page_text) >= min_chars:
        return page_text, "trafilatura", page
    return None


def article_row(
    entry: store.PendingEntry,
    final_url: str,
    text: str,
    method: str,
    page: Extracted | None,
    document_id: str | None,
    run_id: int | None,
) -> dict[str, Any]:
    """The articles row for one entry (dedup columns filled by the caller)."""
    now = now_utc()
    published, published_source = entry.published_at, "feed"
    if published is None and page and page.published_at:
        published, published_source = page.published_at, "page"
    if published is None:
        published, published_source = now, "fetched"
    language = (page.language if page else None) or detect_script_language(text)
    return {
        "article_id": store.article_id_for(entry.canonical_url),
        "canonical_url": entry.canonical_url,
        "url": final_url,
        "source_id": entry.source_id,
        "document_id": document_id,
        "title": entry.title or (page.title if page else None),
        "author": entry.author or (page.author if page else None),
        "site_name": page.site_name if page else None,
        "published_at": published,
        "published_source": published_source,
        "language": language or entry.source_language,
        "text": text,
        "text_chars": len(text),
        "text_hash": text_hash(text),
        "simhash": simhash(text),
        "extraction_method": method,
        "extracted_at": now,
        "run_id": run_id,
    }


def fetch_pages(
    settings: Settings,
    entries: Sequence[store.PendingEntry],
    fetcher: Fetcher,
    extractor: Extractor,
    run_id: int | None,
) -> IngestCounts:
    """Fetch, extract and store one batch of entries; each article is its own transaction."""
    counts = IngestCounts()
    path, patience = settings.warehouse_path, settings.lock_patience_seconds
    unique: dict[str, store.PendingEntry] = {}
    with writer(path, patience=patience) as con:
        for e in entries:
            known = store.existing_article(con, e.canonical_url)
            if known is not None:
                store.link_existing(con, e.canonical_url, known, now_utc())
                counts.duplicates += 1
            else:
                unique.setdefault(e.canonical_url, e)
    todo = list(unique.values())
    results = fetcher.fetch_many([e.url for e in todo], check_robots=settings.obey_robots)
    pages = [(r.body, r.headers, r.final_url) for r in results if r.ok]
    extracted_ok = iter(extractor.extract_many(pages))
    extracted = [next(extracted_ok) if r.ok else None for r in results]
    with writer(path, patience=patience) as con:
        for e, r, x in zip(todo, results, extracted, strict=True):
            try:
                counts.add(_store_one(settings, con, e, r, x, run_id))
            except Exception as exc:  # one bad page never stops the batch; it is recorded
                log.exception("storing %s failed", e.url)
                store.fail_entries(
                    con,
                    e.canonical_url,
                    "internal",
                    f"{type(exc).__name__}: {exc}",
                    settings.page_attempts,
                    now_utc(),
                )
                counts.failed += 1
                counts.failures["page:internal"] += 1
    return counts


def _store_one(
    settings: Settings,
    con: Any,
    e: store.PendingEntry,
    r: FetchResult,
    x: Extracted | ExtractionError | None,
    run_id: int | None,
) -> IngestCounts:
    """Store one fetched entry (or record why it failed)."""
    counts = IngestCounts()
    now = now_utc()
    if r.ok:
        counts.fetched += 1
    chosen = _choose_text(x, e.feed_content, settings.min_article_chars)
    if chosen is None:
        error_class = r.error_class or (x.error_class if isinstance(x, ExtractionError) else "extract_empty")
        message = r.error_message or (
            str(x) if isinstance(x, ExtractionError) else "no article text on the page"
        )
        store.fail_entries(con, e.canonical_url, error_class, message, settings.page_attempts, now)
        counts.failed += 1
        counts.failures[f"page:{error_class}"] += 1
        return counts
    text, method, page = chosen
    document = None
    if r.ok:
        encoding = r.headers.get("x-axiswatch-encoding")
        document = store.document_row(e.url, r.final_url, r.status_code, r.headers, r.body, encoding, now)
    row = article_row(
        e,
        r.final_url if r.ok else e.url,
        text,
        method,
        page,
        document["document_id"] if document else None,
        run_id,
    )
    dup = store.find_duplicate(con, row["text_hash"], row["simhash"], settings.near_duplicate_bits)
    row["duplicate_of"], row["duplicate_kind"] = dup if dup else (None, None)
    state = store.store_article(con, row, document, now)
    counts.extracted += state == "stored"
    counts.duplicates += state == "duplicate" or dup is not None
    return counts


# ---------------------------------------------------------------- whole stage


Progress = Callable[[str], None]
PollFn = Callable[[Settings, Sequence[store.DueSource], Fetcher, "int | None"], IngestCounts]
FetchFn = Callable[[Settings, Sequence[store.PendingEntry], Fetcher, Extractor, "int | None"], IngestCounts]


def prepare_sources(settings: Settings) -> list[store.DueSource]:
    """Sync sources.toml into the warehouse and return the sources due for polling."""
    sources = load_sources(settings.sources_file)
    with writer(settings.warehouse_path, patience=settings.lock_patience_seconds) as con:
        store.sync_sources(con, sources, now_utc())
        return store.due_sources(con, now_utc(), settings.poll_interval_minutes)


def run_ingest(
    settings: Settings,
    run_id: int | None = None,
    progress: Progress | None = None,
    *,
    prepare: Callable[[Settings], list[store.DueSource]] = prepare_sources,
    poll: PollFn = poll_feeds,
    fetch: FetchFn = fetch_pages,
) -> IngestCounts:
    """Sync sources, poll every due feed, fetch every pending page; stages are swappable
    so the Prefect flow runs the same orchestration with its tasks."""
    say = progress or (lambda _msg: None)
    due = prepare(settings)
    total = IngestCounts()
    with Fetcher(settings) as fetcher, Extractor(settings) as extractor:
        for start in range(0, len(due), FEED_BATCH):
            total.add(poll(settings, due[start : start + FEED_BATCH], fetcher, run_id))
        say(
            f"polled {total.feeds_polled} feeds ({total.not_modified} unchanged, "
            f"{total.feeds_failed} failed): {total.discovered} new entries"
        )
        for batch in iter_pending(settings):
            total.add(fetch(settings, batch, fetcher, extractor, run_id))
        say(f"stored {total.extracted} articles, {total.duplicates} duplicates, {total.failed} failed pages")
    return total


def iter_pending(settings: Settings) -> Iterator[list[store.PendingEntry]]:
    """Yield batches of pending entries until none is left untried in this run."""
    started = now_utc()
    while True:
        with writer(settings.warehouse_path, patience=settings.lock_patience_seconds) as con:
            batch = store.pending_entries(con, settings.page_attempts, started, settings.batch_size)
        if not batch:
            return
        yield batch
