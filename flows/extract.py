"""Article extraction: bytes + headers -> decoded HTML -> main text and metadata (trafilatura).

Text format (what ``Extracted.text`` and ``text_from_feed_content`` return): one paragraph
per line. Lines are separated by a single ``"\\n"``, there are no blank lines, whitespace
inside a line is collapsed to single spaces, and the text is NFC-normalised. Headings, list
items and table rows are lines of their own. Passage segmentation splits on ``"\\n"``.

``Extractor`` runs pages in a small pool of worker processes, each page under a hard time
budget: a worker still busy when its page's budget runs out is killed and replaced, and the
page gets ``ExtractionError("extract_timeout")``; the other pages are unaffected.
"""

from __future__ import annotations

import contextlib
import html as html_lib
import multiprocessing
import re
import time
import unicodedata
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing.connection import Connection, wait
from typing import Any, Self

import lxml.html
import trafilatura
from lxml import etree
from trafilatura.settings import Document

from flows.settings import Settings
from flows.textutil import (
    bom_encoding,
    decode_bytes,
    detect_script_language,
    header_charset,
    xml_declared_charset,
)
from models.textclean import clean_markup

ERROR_CLASSES = ("extract_timeout", "extract_empty", "extract_failed", "decoding", "too_large")
METHOD_TRAFILATURA = "trafilatura"
METHOD_FEED_CONTENT = "feed_content"
META_SCAN_BYTES = 16 * 1024  # <meta charset> prescan window (WHATWG uses 1 KiB; pages vary)
LIBXML2_MAX_DEPTH = 255  # deeper content is dropped by the default HTML parser
MAX_REPLACED_SHARE = 0.05  # more undecodable characters than this -> "decoding" error


@dataclass
class Extracted:
    """Main text and metadata of one page (or of a feed's full-text content)."""

    text: str
    title: str | None
    author: str | None
    published_at: datetime | None
    site_name: str | None
    language: str | None
    method: str
    encoding: str | None = None  # codec the page bytes were decoded with (bytes path only)


class ExtractionError(Exception):
    """A page could not be turned into article text; ``error_class`` says why."""

    def __init__(self, error_class: str, message: str) -> None:
        super().__init__(f"{error_class}: {message}")
        self.error_class = error_class
        self.message = message

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle support (the error crosses the worker-process boundary)."""
        return (ExtractionError, (self.error_class, self.message))


# ---------------------------------------------------------------------------- decoding

_META_RE = re.compile(rb"<meta\b[^>]*?charset\s*=\s*[\"']?\s*([\w.:-]+)", re.IGNORECASE)


def decode_html(body: bytes, headers: Mapping[str, str]) -> tuple[str, str]:
    """Decode an HTML body: BOM, HTTP charset, <meta>, XML declaration, detection, UTF-8."""
    match = _META_RE.search(body[:META_SCAN_BYTES])
    meta = match.group(1).decode("ascii") if match else None
    if meta is not None and meta.lower().startswith("utf-16"):
        meta = "utf-8"  # WHATWG: a readable <meta> means an ASCII-compatible page
    declared = [header_charset(headers), meta, xml_declared_charset(body)]
    _reject_binary(body, declared)
    decoded = decode_bytes(body, declared)
    if decoded.replaced > MAX_REPLACED_SHARE * max(1, len(decoded.text)):
        share = decoded.replaced / max(1, len(decoded.text))
        msg = f"{share:.0%} of characters undecodable as {decoded.encoding}"
        raise ExtractionError("decoding", msg)
    return decoded.text, decoded.encoding


def _reject_binary(body: bytes, declared: Sequence[str | None]) -> None:
    """Raise ``decoding`` for bodies with NUL bytes that are not UTF-16/32 text."""
    head = body[:1024]
    if b"\x00" not in head or bom_encoding(body) is not None or head[:2] in (b"<\x00", b"\x00<"):
        return
    if any(d and d.lower().startswith(("utf-16", "utf-32")) for d in declared):
        return
    raise ExtractionError("decoding", "body looks binary (NUL bytes), not an HTML page")


# ---------------------------------------------------------------------------- extraction

_XML_DECL_STR_RE = re.compile(r"^\s*<\?xml[^>]*\?>")
_LANG_RE = re.compile(r"<html\b[^>]*?\slang\s*=\s*[\"']?\s*([A-Za-z]{2,3})\b", re.IGNORECASE)
_CJK_TAGS = ("ko", "ja", "zh")


def extract_article(html: str, url: str) -> Extracted | None:
    """Extract the main text and metadata of one HTML page; None if it has no main text."""
    html = _XML_DECL_STR_RE.sub("", html, count=1)
    doc = _trafilatura(html, url)
    if doc is None and (deep := _deep_tree(html)) is not None:
        doc = _trafilatura(deep, url)  # libxml2 drops content nested deeper than 256 levels
    text = tidy_paragraphs(doc.text or "") if doc is not None else ""
    if doc is None or not text:
        return None
    return Extracted(
        text=text,
        title=_clean(doc.title),
        author=_clean(doc.author),
        published_at=parse_datetime(doc.date),
        site_name=_clean(doc.sitename),
        language=page_language(html, text),
        method=METHOD_TRAFILATURA,
    )


def _trafilatura(page: str | lxml.html.HtmlElement, url: str) -> Document | None:
    """trafilatura's precision-favouring extraction with metadata, without comments."""
    doc = trafilatura.bare_extraction(
        page,
        url=url,
        favor_precision=True,
        include_comments=False,
        include_tables=True,
        with_metadata=True,
        date_extraction_params=_date_params(),
    )
    return doc if isinstance(doc, Document) else None


def _deep_tree(html: str) -> lxml.html.HtmlElement | None:
    """The page parsed without libxml2's depth limit, if it is nested deeper than that limit."""
    parser = lxml.html.HTMLParser(huge_tree=True, remove_comments=True, remove_pis=True)
    try:
        tree = lxml.html.document_fromstring(html, parser=parser)
    except (etree.ParserError, ValueError):
        return None
    depth = deepest = 0
    for event, _ in etree.iterwalk(tree, events=("start", "end")):
        depth += 1 if event == "start" else -1
        deepest = max(deepest, depth)
    return tree if deepest > LIBXML2_MAX_DEPTH else None


def _date_params() -> dict[str, Any]:
    """htmldate parameters: publication (not modification) date, with time when available."""
    return {
        "original_date": True,
        "extensive_search": True,
        "outputformat": "%Y-%m-%dT%H:%M:%S%z",
        "max_date": datetime.now(UTC).strftime("%Y-%m-%d"),
    }


def parse_datetime(value: str | None) -> datetime | None:
    """Parse an ISO date/time into tz-aware UTC (naive values are taken as UTC)."""
    try:
        parsed = datetime.fromisoformat(value.strip()) if value else None
    except ValueError:
        return None
    if parsed is not None and parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC) if parsed is not None else None


def page_language(html: str, text: str) -> str | None:
    """Primary tag from <html lang>, unless the text's CJK script disagrees; else by script."""
    match = _LANG_RE.search(html[:65536])
    declared = match.group(1).lower() if match else None
    script = detect_script_language(text)
    if declared is None or (script in _CJK_TAGS and script != declared):
        return script
    return declared


def _clean(value: str | None) -> str | None:
    """Collapse whitespace; empty strings become None."""
    return " ".join(value.split()) or None if value else None


def tidy_paragraphs(text: str) -> str:
    """NFC-normalise, collapse whitespace per line, drop empty lines: one paragraph per line."""
    lines = (" ".join(line.split()) for line in unicodedata.normalize("NFC", text).splitlines())
    return "\n".join(line for line in lines if line)


# ---------------------------------------------------------------------------- feed content

# fmt: off
_DROP_TAGS = ("script", "style", "noscript", "iframe", "object", "embed", "form", "button",
              "svg", "nav", "template", "select", "textarea")
_BLOCK_TAGS = frozenset({
    "address", "article", "aside", "blockquote", "body", "dd", "details", "div", "dl", "dt",
    "fieldset", "figcaption", "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6",
    "header", "hr", "li", "main", "ol", "p", "pre", "section", "summary", "table", "tbody",
    "thead", "tfoot", "tr", "td", "th", "ul", "br",
})
# fmt: on
_TAG_RE = re.compile(r"<[A-Za-z!/]")
_SPACE_RE = re.compile(r"\s+")  # in HTML text, newlines are just whitespace


def text_from_feed_content(content_html: str) -> str:
    """Turn a feed's full-text HTML (or plain text) into one-paragraph-per-line text."""
    if not content_html or not content_html.strip():
        return ""
    if not _TAG_RE.search(content_html):
        return tidy_paragraphs(html_lib.unescape(content_html))
    try:
        root = lxml.html.fragment_fromstring(content_html, create_parent="div")
    except (etree.ParserError, ValueError):
        return ""
    for element in list(root.iter(*_DROP_TAGS)):
        element.drop_tree()
    return tidy_paragraphs("".join(_block_text(root)))


def _block_text(root: Any) -> Iterable[str]:
    """Text of ``root`` with a newline at every block boundary (iterative, any depth)."""
    for event, element in etree.iterwalk(root, events=("start", "end")):
        tag = element.tag if isinstance(element.tag, str) else ""
        if tag in _BLOCK_TAGS:
            yield "\n"
        if event == "start" and tag and element.text:
            yield _SPACE_RE.sub(" ", element.text)
        if event == "end" and element.tail and element is not root:
            yield _SPACE_RE.sub(" ", element.tail)


# ---------------------------------------------------------------------------- one page, bytes in


def extract_page(body: bytes, headers: Mapping[str, str], url: str) -> Extracted:
    """Decode and extract one fetched page; raises ExtractionError (a worker's unit of work)."""
    html, encoding = decode_html(body, headers)
    html = clean_markup(html)  # control-character references make the extractor find nothing
    try:
        result = extract_article(html, url)
    except RecursionError as exc:
        raise ExtractionError("extract_failed", "page nested too deeply to parse") from exc
    if result is None:
        raise ExtractionError("extract_empty", "no main text found on the page")
    result.encoding = encoding
    return result


# ---------------------------------------------------------------------------- process pool

PageFn = Callable[[bytes, Mapping[str, str], str], Extracted]
Result = Extracted | ExtractionError
Page = tuple[bytes, Mapping[str, str], str]
WORKER_ADDRESS_SPACE_BYTES = 4 * 1024**3  # a runaway page gets MemoryError, not the OOM killer
WORKER_START_SECONDS = 120.0  # a worker not ready by then counts as failed to start
MAX_START_FAILURES = 3  # consecutive start failures before pending pages are failed


def _worker_main(conn: Connection, page_fn: PageFn, address_space: int) -> None:
    """Worker process loop: receive (index, body, headers, url), send (index, result)."""
    with contextlib.suppress(ImportError, ValueError, OSError):
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))
    conn.send(("ready", None))
    while (task := _receive(conn)) is not None:
        index, body, headers, url = task
        conn.send((index, _run_page(page_fn, body, headers, url)))


def _receive(conn: Connection) -> Any:
    """Next task from the parent; None when told to stop or the parent went away."""
    try:
        return conn.recv()
    except EOFError:
        return None


def _run_page(page_fn: PageFn, body: bytes, headers: Mapping[str, str], url: str) -> Result:
    """Run one page, turning any failure into an ExtractionError."""
    try:
        return page_fn(body, headers, url)
    except ExtractionError as exc:
        return exc
    except MemoryError:
        return ExtractionError("extract_failed", "out of memory while extracting the page")
    except Exception as exc:  # any parser failure is recorded for this page, never raised
        return ExtractionError("extract_failed", f"{type(exc).__name__}: {exc}"[:500])


class _Worker:
    """One worker process with its pipe, current task and deadline."""

    def __init__(self, ctx: Any, page_fn: PageFn) -> None:
        self.conn, child = ctx.Pipe()
        args = (child, page_fn, WORKER_ADDRESS_SPACE_BYTES)
        self.proc = ctx.Process(target=_worker_main, args=args, daemon=True)
        self.proc.start()
        child.close()
        self.deadline = time.monotonic() + WORKER_START_SECONDS
        self.ready = False
        self.task: int | None = None

    def died(self) -> ExtractionError:
        """The error recorded for a page whose worker died."""
        self.proc.join(1)  # the pipe can close a moment before the exit status is known
        code = self.proc.exitcode
        if not self.ready:  # e.g. the main module starts work on import (no __main__ guard)
            return ExtractionError("extract_failed", f"extraction worker failed to start (exit code {code})")
        return ExtractionError("extract_failed", f"extraction worker died (exit code {code})")

    def kill(self) -> None:
        """Kill the process now and release its pipe."""
        self.proc.kill()
        self.proc.join(5)
        self.conn.close()


class Extractor:
    """Extract many fetched pages in a process pool with a hard per-page time budget.

    Not thread-safe: call ``extract_many`` from one thread at a time. Texts are returned
    whatever their length: the caller applies ``settings.min_article_chars``.
    """

    def __init__(self, settings: Settings, page_fn: PageFn = extract_page) -> None:
        self.settings = settings
        self.page_fn = page_fn  # must be a module-level function (it is pickled)
        self._ctx = multiprocessing.get_context("spawn")
        self._workers: list[_Worker] = []
        self._start_failures = 0

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop all worker processes."""
        for worker in self._workers:
            with contextlib.suppress(OSError):
                worker.conn.send(None)
        for worker in self._workers:
            worker.proc.join(2)
            worker.kill()
        self._workers = []

    def extract_many(self, pages: Sequence[Page]) -> list[Result]:
        """Extract (body, headers, url) pages; results in input order, errors as values."""
        results: dict[int, Result] = {}
        pending: deque[int] = deque()
        limit = self.settings.max_body_bytes
        for i, (body, _, _) in enumerate(pages):
            if len(body) > limit:
                msg = f"body of {len(body)} bytes exceeds max_body_bytes={limit}"
                results[i] = ExtractionError("too_large", msg)
            else:
                pending.append(i)
        while pending and len(self._workers) < max(1, self.settings.extract_workers):
            self._workers.append(_Worker(self._ctx, self.page_fn))
        while pending or any(w.task is not None for w in self._workers):
            self._dispatch(pending, pages)
            self._wait()
            for slot, worker in enumerate(self._workers):
                failure = self._check(worker, results)
                if failure is not None:
                    self._replace(slot, failure, results, pending)
        return [results[i] for i in range(len(pages))]

    def _dispatch(self, pending: deque[int], pages: Sequence[Page]) -> None:
        """Hand pending pages to idle, ready workers and start their budgets."""
        for worker in self._workers:
            if worker.ready and worker.task is None and pending:
                index = pending.popleft()
                body, headers, url = pages[index]
                worker.conn.send((index, bytes(body), dict(headers), url))
                worker.task = index
                worker.deadline = time.monotonic() + self.settings.extract_timeout_seconds

    def _wait(self) -> None:
        """Block until a worker has a message, dies, or the earliest deadline passes."""
        active = [w for w in self._workers if w.task is not None or not w.ready]
        timeout = min((w.deadline for w in active), default=time.monotonic())
        waitables = [w.conn for w in self._workers] + [w.proc.sentinel for w in self._workers]
        wait(waitables, max(0.0, timeout - time.monotonic()))

    def _check(self, worker: _Worker, results: dict[int, Result]) -> ExtractionError | None:
        """Read ``worker``'s message if any; return a failure if it died or overran."""
        if worker.conn.poll():
            try:
                index, result = worker.conn.recv()
            except (EOFError, OSError):
                return worker.died()
            if index == "ready":
                worker.ready, self._start_failures = True, 0
            else:
                results[index], worker.task = result, None
        if not worker.proc.is_alive():
            return worker.died()
        if (worker.task is not None or not worker.ready) and time.monotonic() > worker.deadline:
            if not worker.ready:
                return ExtractionError("extract_failed", "extraction worker did not start")
            budget = self.settings.extract_timeout_seconds
            msg = f"no result within extract_timeout_seconds={budget:g}; worker killed"
            return ExtractionError("extract_timeout", msg)
        return None

    def _replace(
        self, slot: int, failure: ExtractionError, results: dict[int, Result], pending: deque[int]
    ) -> None:
        """Kill the worker in ``slot``, record ``failure`` for its page, start a fresh one."""
        worker = self._workers[slot]
        worker.kill()
        if worker.task is not None:
            results[worker.task] = failure
        self._start_failures += not worker.ready
        if self._start_failures >= MAX_START_FAILURES:
            while pending:
                results[pending.popleft()] = failure
        self._workers[slot] = _Worker(self._ctx, self.page_fn)
