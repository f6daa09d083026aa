"""The ingest stage: poll due feeds, discover entries, fetch and extract pages, store articles.

Plain functions do the work and are tested on their own; flows/pipeline.py runs the same
orchestration (``run_ingest``) with Prefect tasks that each take a batch (feeds or pages).
Every write goes through a ``Sink`` (one transaction per unit; spooled while locked).
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, fields
from datetime import timedelta
from typing import Any

from flows import neardup, store, store_polls
from flows.extract import Extracted, ExtractionError, Extractor, text_from_feed_content
from flows.feeds import ParsedFeed, parse_feed
from flows.fetch import Fetcher, FetchResult
from flows.settings import Settings
from flows.sink import Op, Sink
from flows.sources import load_sources
from flows.textutil import canonical_url, detect_script_language, text_hash
from models.textclean import clean_optional, clean_text
from warehouse.db import WarehouseLocked, now_utc

FEED_ACCEPT = "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
FEED_BATCH = 100  # feeds per poll task and per write transaction (Prefect task overhead, commits)
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
    spooled: int = 0
    failures: Counter[str] = field(default_factory=Counter)

    def add(self, other: IngestCounts) -> None:
        """Add another batch's counts to these."""
        for f in fields(self):
            if f.name != "failures":
                setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))
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
            "message": f"{self.spooled} writes spooled (warehouse locked)" if self.spooled else None,
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
    outcomes = store_polls.record_batch(
        sink, [(d.source_id, rec) for d, rec in zip(due, records, strict=True)]
    )
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


# ---------------------------------------------------------------- pages


def choose_text(
    extracted: Extracted | ExtractionError | None, feed_content: str | None, min_chars: int
) -> tuple[str, str, Extracted | None] | None:
    """Pick the article text: the page's, or the feed's full content when the page is thinner."""
    feed_text = text_from_feed_content(feed_content) if feed_content else ""
    page = extracted if isinstance(extracted, Extracted) else None
    page_text = page.text if page else ""
    if len(feed_text) >= min_chars and len(feed_text) > len(page_text) * 1.2:
        return feed_text, "feed_content", page
    if len(page_text) >= min_chars:
        return page_text, "trafilatura", page
    return None


def article_row(
    entry: store.PendingEntry,
    final_url: str,
    chosen: tuple[str, str, Extracted | None],
    document_id: str | None,
    run_id: int | None,
) -> dict[str, Any]:
    """The articles row for one entry (duplicate columns are decided when it is stored)."""
    raw, method, page = chosen
    text = clean_text(raw)  # lone surrogates and NULs never reach the warehouse or the encoders
    now = now_utc()
    published, published_source = entry.published_at, "feed"
    if published is None and page and page.published_at:
        published, published_source = page.published_at, "page"
    if published is None:
        published, published_source = now, "fetched"
    language = (page.language if page else None) or detect_script_language(text) or entry.source_language
    return {
        "article_id": store.article_id_for(entry.canonical_url),
        "canonical_url": entry.canonical_url,
        "url": final_url,
        "source_id": entry.source_id,
        "document_id": document_id,
        "title": clean_optional(entry.title or (page.title if page else None)),
        "author": clean_optional(entry.author or (page.author if page else None)),
        "site_name": clean_optional(page.site_name if page else None),
        "published_at": published,
        "published_source": published_source,
        "language": language,
        "text": text,
        "text_chars": len(text),
        "text_hash": text_hash(text),
        "fingerprint": neardup.to_bytes(neardup.signature(text)),
        "extraction_method": method,
        "extracted_at": now,
        "run_id": run_id,
    }


def page_op(
    settings: Settings,
    e: store.PendingEntry,
    r: FetchResult,
    x: Extracted | ExtractionError | None,
    run_id: int | None,
) -> Op:
    """The write for one fetched entry: store its article, or record why it failed."""
    now = now_utc()
    chosen = choose_text(x, e.feed_content, settings.min_article_chars)
    if chosen is None:
        if r.error_class:
            error_class, message = r.error_class, r.error_message or r.error_class
        elif isinstance(x, ExtractionError):
            error_class, message = x.error_class, str(x)
        else:
            error_class, message = "extract_empty", "no article text on the page or in the feed"
        return ("fail_entries", (e.canonical_url, error_class, message, settings.page_attempts, now))
    document = None
    if r.ok:
        encoding = x.encoding if isinstance(x, Extracted) else None
        document = store.document_row(e.url, r.final_url, r.status_code, r.headers, r.body, encoding, now)
    doc_id = document["document_id"] if document else None
    row = article_row(e, r.final_url if r.ok else e.url, chosen, doc_id, run_id)
    return ("store_article", (row, document, settings.near_duplicate_resemblance, now))


def fetch_pages(
    settings: Settings,
    entries: Sequence[store.PendingEntry],
    fetcher: Fetcher,
    extractor: Extractor,
    sink: Sink,
    run_id: int | None,
) -> IngestCounts:
    """Fetch, extract and store one batch of entries (one transaction per article)."""
    counts = IngestCounts()
    unique: dict[str, store.PendingEntry] = {}
    ops: list[Op] = []
    with sink.read() as con:
        for e in entries:
            known = store.existing_article(con, e.canonical_url)
            if known is not None:
                ops.append(("link_existing", (e.canonical_url, known, now_utc())))
            else:
                unique.setdefault(e.canonical_url, e)
    todo = list(unique.values())
    results = fetcher.fetch_many([e.url for e in todo], check_robots=settings.obey_robots)
    pages = [(r.body, r.headers, r.final_url) for r in results if r.ok]
    extracted_iter = iter(extractor.extract_many(pages))
    extracted = [next(extracted_iter) if r.ok else None for r in results]
    counts.fetched = sum(r.ok for r in results)
    ops += [page_op(settings, e, r, x, run_id) for e, r, x in zip(todo, results, extracted, strict=True)]
    outcomes = sink.apply(ops)
    if outcomes is None:
        counts.spooled += len(ops)
        return counts
    retry: list[Op] = []
    for (name, args), outcome in zip(ops, outcomes, strict=True):
        _count(counts, name, args, outcome)
        if isinstance(outcome, Exception) and name == "store_article":
            message = f"storing failed: {type(outcome).__name__}: {outcome}"
            retry.append(
                (
                    "fail_entries",
                    (args[0]["canonical_url"], "internal", message, settings.page_attempts, now_utc()),
                )
            )
    sink.apply(retry)
    return counts


def _count(counts: IngestCounts, name: str, args: tuple[Any, ...], outcome: Any) -> None:
    """Add one page write's outcome to the funnel counts."""
    if isinstance(outcome, Exception):
        counts.failed += 1
        counts.failures["page:internal"] += 1
    elif name == "fail_entries":
        counts.failed += 1
        counts.failures[f"page:{args[1]}"] += 1
    elif name == "link_existing" or outcome == "known":
        counts.duplicates += 1
    elif outcome == "duplicate":
        counts.extracted += 1
        counts.duplicates += 1
    else:
        counts.extracted += 1


# ---------------------------------------------------------------- whole stage


Progress = Callable[[str], None]
PrepareFn = Callable[[Settings, Sink], list[store.DueSource]]
PollFn = Callable[[Settings, Sequence[store.DueSource], Fetcher, Sink, "int | None"], IngestCounts]
FetchFn = Callable[
    [Settings, Sequence[store.PendingEntry], Fetcher, Extractor, Sink, "int | None"], IngestCounts
]


def prepare_sources(settings: Settings, sink: Sink) -> list[store.DueSource]:
    """Apply writes spooled by earlier runs, sync sources.toml, list the sources due now."""
    sources = load_sources(settings.sources_file)
    try:
        sink.replay()
    except WarehouseLocked as exc:
        log.warning("spooled writes stay aside: %s", exc)
    sink.apply([("sync_sources", (sources, now_utc()))])
    with sink.read() as con:
        return store.due_sources(con, now_utc(), settings.poll_interval_minutes)


def run_ingest(
    settings: Settings,
    run_id: int | None = None,
    progress: Progress | None = None,
    *,
    prepare: PrepareFn = prepare_sources,
    poll: PollFn = poll_feeds,
    fetch: FetchFn = fetch_pages,
) -> IngestCounts:
    """Sync sources, poll every due feed, fetch every pending page. The stage functions are
    parameters so the Prefect flow runs this same orchestration with its tasks."""
    say = progress or (lambda _msg: None)
    sink = Sink(settings)
    due = prepare(settings, sink)
    total = IngestCounts()
    with Fetcher(settings) as fetcher, Extractor(settings) as extractor:
        for start in range(0, len(due), FEED_BATCH):
            total.add(poll(settings, due[start : start + FEED_BATCH], fetcher, sink, run_id))
        say(
            f"polled {total.feeds_polled} feeds ({total.not_modified} unchanged, "
            f"{total.feeds_failed} failed): {total.discovered} new entries"
        )
        for batch in iter_pending(settings, sink):
            total.add(fetch(settings, batch, fetcher, extractor, sink, run_id))
            if sink.locked_by:
                say(f"warehouse locked by {sink.locked_by}: the rest waits for the next run")
                break
        say(f"stored {total.extracted} articles, {total.duplicates} duplicates, {total.failed} failed pages")
    return total


def iter_pending(settings: Settings, sink: Sink) -> Iterator[list[store.PendingEntry]]:
    """Yield batches of pending entries until none is left untried in this run."""
    started = now_utc()
    seen: set[tuple[str, str]] = set()
    while True:
        with sink.read() as con:
            batch = store.pending_entries(con, settings.page_attempts, started, settings.batch_size)
        fresh = [e for e in batch if (e.source_id, e.guid) not in seen]
        if not fresh:  # nothing left, or only entries whose writes could not be recorded
            return
        seen.update((e.source_id, e.guid) for e in fresh)
        yield fresh
