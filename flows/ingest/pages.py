"""Entries → fetch → extract → writes → store, in one pass over a batch of pending entries.

Pages are fetched through the one hardened client, extracted in worker processes, and each
entry becomes one write: ``StoreArticle`` (document, article, entry links in one transaction;
it carries the article as typed ``ArticleText`` and the warehouse builds the row) or
``FailEntries`` with the reason. The choice between the page's text and the
feed's own full text is made in one place, ``choose_text``. The article's canonical URL is
the page's same-site ``<link rel="canonical">``, else the final URL after redirects; the
entry keeps the feed's own link.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from flows.ingest import dedup as neardup
from flows.ingest.counts import IngestCounts
from flows.ingest.extract import Extracted, ExtractionError, text_from_feed_content
from flows.ingest.extract_pool import Extractor
from flows.ingest.fetch import Fetcher, FetchResult
from flows.ingest.text import canonical_url, text_hash
from flows.settings import Settings
from models.language import script_language
from models.textclean import clean_optional, clean_text
from warehouse import ingest_ops as store
from warehouse.article_ops import ArticleText, StoreArticle, document_row, existing_articles
from warehouse.db import now_utc
from warehouse.ingest_ops import FailEntries, LinkExisting
from warehouse.ops import WriteOp
from warehouse.sink import Sink


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


def same_site(a: str, b: str) -> bool:
    """True when two URLs are on the same host (ignoring scheme, port and a leading www.)."""

    def host(url: str) -> str:
        name = (urlsplit(url).hostname or "").lower()
        return name[4:] if name.startswith("www.") else name

    return bool(host(a)) and host(a) == host(b)


def article_url(entry: store.PendingEntry, result: FetchResult, page: Extracted | None) -> str:
    """The article's canonical URL: the page's same-site rel=canonical, else the final URL."""
    if not result.ok:
        return entry.canonical_url
    if page is not None and page.canonical and same_site(page.canonical, result.final_url):
        return canonical_url(page.canonical)
    return canonical_url(result.final_url)


def article_text(
    entry: store.PendingEntry,
    final_url: str,
    chosen: tuple[str, str, Extracted | None],
    document_id: str | None,
    run_id: int | None,
    canonical: str,
    now: datetime,
) -> ArticleText:
    """What one entry's article is made of: the cleaned text with its hash and fingerprint, and
    the feed's metadata, else the page's (the warehouse builds the articles row from it)."""
    raw, method, page = chosen
    text = clean_text(raw)  # lone surrogates and NULs never reach the warehouse or the encoders
    return ArticleText(
        canonical_url=canonical,
        url=final_url,
        source_id=entry.source_id,
        text=text,
        text_hash=text_hash(text),
        fingerprint=neardup.to_bytes(neardup.signature(text)),
        method=method,
        extracted_at=now,
        document_id=document_id,
        title=clean_optional(entry.title or (page.title if page else None)),
        author=clean_optional(entry.author or (page.author if page else None)),
        site_name=clean_optional(page.site_name if page else None),
        language=(page.language if page else None) or script_language(text) or entry.source_language,
        published_at=entry.published_at,
        page_published_at=page.published_at if page else None,
        run_id=run_id,
    )


def page_op(
    settings: Settings,
    e: store.PendingEntry,
    r: FetchResult,
    x: Extracted | ExtractionError | None,
    run_id: int | None,
) -> FailEntries | StoreArticle:
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
        return FailEntries(e.canonical_url, error_class, message, settings.page_attempts, now)
    document = None
    if r.ok:
        encoding = x.encoding if isinstance(x, Extracted) else None
        document = document_row(e.url, r.final_url, r.status_code, r.headers, r.body, encoding, now)
    doc_id = document["document_id"] if document else None
    canonical = article_url(e, r, chosen[2])
    text = article_text(e, r.final_url if r.ok else e.url, chosen, doc_id, run_id, canonical, now)
    return StoreArticle(text, document, e.canonical_url, settings.near_duplicate_resemblance, now)


def fetch_pages(
    settings: Settings,
    entries: Sequence[store.PendingEntry],
    fetcher: Fetcher,
    extractor: Extractor,
    sink: Sink,
    run_id: int | None,
) -> IngestCounts:
    """Fetch, extract and store one batch of entries (one transaction per article on a file; on a
    lake the sink commits many articles at once)."""
    counts = IngestCounts()
    unique: dict[str, store.PendingEntry] = {}
    ops: list[WriteOp] = []
    with sink.read() as con:  # one lookup for the batch (on a lake each statement asks the catalog)
        stored = existing_articles(con, [e.canonical_url for e in entries])
    for e in entries:
        known = stored.get(e.canonical_url)
        if known is not None:
            ops.append(LinkExisting(e.canonical_url, known, now_utc()))
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
    retry: list[WriteOp] = []
    for op, outcome in zip(ops, outcomes, strict=True):
        _count(counts, op, outcome)
        if isinstance(outcome, Exception) and isinstance(op, StoreArticle):
            message = f"storing failed: {type(outcome).__name__}: {outcome}"
            retry.append(FailEntries(op.entry_url, "internal", message, settings.page_attempts, now_utc()))
    sink.apply(retry)
    return counts


def _count(counts: IngestCounts, op: WriteOp, outcome: Any) -> None:
    """Add one page write's outcome to the funnel counts."""
    if isinstance(outcome, Exception):
        counts.failed += 1
        counts.failures["page:internal"] += 1
    elif isinstance(op, FailEntries):
        counts.failed += 1
        counts.failures[f"page:{op.error_class}"] += 1
    elif isinstance(op, LinkExisting) or outcome == "known":
        counts.duplicates += 1
    elif outcome == "duplicate":
        counts.extracted += 1
        counts.duplicates += 1
    else:
        counts.extracted += 1


PENDING_SCAN = 100_000  # pending entries a shard reads at once to pick its own


def iter_pending(
    settings: Settings, sink: Sink, keep: Callable[[store.PendingEntry], bool] | None = None
) -> Iterator[list[store.PendingEntry]]:
    """Yield batches of pending entries until none is left untried in this run; with ``keep``
    (a shard), only the entries it keeps (read in one wide scan, since the others stay pending)."""
    started = now_utc()
    seen: set[tuple[str, str]] = set()
    while True:
        with sink.read() as con:
            if keep is None:
                batch = store.pending_entries(con, settings.page_attempts, started, settings.batch_size)
            else:
                scan = store.pending_entries(con, settings.page_attempts, started, PENDING_SCAN)
                mine = (e for e in scan if keep(e) and (e.source_id, e.guid) not in seen)
                batch = list(itertools.islice(mine, settings.batch_size))
        fresh = [e for e in batch if (e.source_id, e.guid) not in seen]
        if not fresh:  # nothing left, or only entries whose writes could not be recorded
            return
        seen.update((e.source_id, e.guid) for e in fresh)
        yield fresh
