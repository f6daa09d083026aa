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

import html as html_lib
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

import lxml.html
from lxml import etree

from flows.ingest.text import (
    bom_encoding,
    decode_bytes,
    header_charset,
    xml_declared_charset,
)
from models.language import CJK_LANGUAGES, script_language
from models.textclean import clean_markup

if TYPE_CHECKING:
    from trafilatura.settings import Document

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
    canonical: str | None = None  # the page's <link rel="canonical"> href, absolute


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
_LINK_RE = re.compile(r"<link\b[^>]*>", re.IGNORECASE)
_REL_CANONICAL_RE = re.compile(r"""\brel\s*=\s*["']?\s*canonical\b""", re.IGNORECASE)
_HREF_RE = re.compile(r"""\bhref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.IGNORECASE)


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
        canonical=canonical_link(html, url),
    )


def canonical_link(html: str, base_url: str) -> str | None:
    """The absolute href of the page's first <link rel="canonical"> (in its first 64 KiB), if any."""
    for tag in _LINK_RE.findall(html[:65536]):
        if _REL_CANONICAL_RE.search(tag) and (href := _HREF_RE.search(tag)):
            value = html_lib.unescape(next(g for g in href.groups() if g is not None)).strip()
            absolute = urljoin(base_url, value) if value else ""
            return absolute if absolute.startswith(("http://", "https://")) else None
    return None


def _trafilatura(page: str | lxml.html.HtmlElement, url: str) -> Document | None:
    """trafilatura's precision-favouring extraction with metadata, without comments."""
    import trafilatura  # here: the run's process only reads feeds; its extraction workers import it
    from trafilatura.settings import Document

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
    script = script_language(text)
    if declared is None or (script in CJK_LANGUAGES and script != declared):
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
