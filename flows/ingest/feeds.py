"""Feed parsing: RSS/Atom/RDF bytes + response headers -> entries (feedparser, no network).

The body is decoded here, not by feedparser (BOM, HTTP charset, XML declaration, detection;
legacy CJK labels use their superset decoders), re-encoded as UTF-8 and handed to
``feedparser.parse`` as a ``BytesIO``, so feedparser never opens a URL or a file. Everything
before the root element (XML declaration, DOCTYPE with its entity declarations, comments,
stylesheet PIs) is replaced by a plain UTF-8 XML declaration: no entity is ever declared, so
neither external entities nor entity expansion ("billion laughs") can happen. Characters that
XML 1.0 forbids are removed. An HTML page, or a body without an RSS/Atom/RDF root, is
``not_a_feed``; a broken feed keeps the entries the lenient parser recovers, with a warning.
"""

from __future__ import annotations

import calendar
import html
import io
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import feedparser

from flows.ingest.text import decode_bytes, header_charset, xml_declared_charset
from models.textclean import clean_markup

SNIFF_CHARS = 64 * 1024
_ROOT_RE = re.compile(r"<(?:[\w.-]+:)?(?:rss|feed|RDF)[\s/>]")
_HTML_RE = re.compile(r"<html[\s>]|<!doctype\s+html", re.IGNORECASE)
_TITLE_RE = re.compile(r"<title[^>]*>([^<]{0,200})", re.IGNORECASE)
_XML_INVALID_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_TAGS_RE = re.compile(r"<[^>]*>")
_XML_DECL = '<?xml version="1.0" encoding="utf-8"?>\n'


@dataclass
class FeedEntry:
    """One feed item with an absolute http(s) link."""

    guid: str
    url: str
    title: str | None
    author: str | None
    published_at: datetime | None
    content_html: str | None


@dataclass
class ParsedFeed:
    """Entries of one feed body, or why there are none.

    ``dropped`` counts entries skipped for having no usable link or a repeated guid;
    ``truncated`` counts the oldest entries cut off beyond ``max_entries``.
    """

    entries: list[FeedEntry]
    title: str | None
    error_class: str | None
    error_message: str | None
    warning: str | None
    dropped: int
    truncated: int = 0


def parse_feed(body: bytes, headers: Mapping[str, str], url: str, *, max_entries: int = 200) -> ParsedFeed:
    """Parse a fetched feed body (never fetches anything itself)."""
    decoded = decode_bytes(body, [header_charset(headers), xml_declared_charset(body)])
    xml, problem = _prepare(decoded.text)
    if xml is None:
        return ParsedFeed([], None, "not_a_feed", problem, None, 0)
    warnings = [problem] if problem else []
    if decoded.replaced:
        warnings.append(f"{decoded.replaced} undecodable byte(s) in {decoded.encoding} replaced")
    result = feedparser.parse(
        io.BytesIO(clean_markup(xml).encode("utf-8")),
        response_headers={
            "content-type": "application/xml; charset=utf-8",
            "content-location": url,
        },
    )
    raw = list(result.get("entries", []))
    title = _title(result.get("feed", {}))
    if result.get("bozo"):
        exc = result.get("bozo_exception")
        message = f"{type(exc).__name__}: {exc}"
        if not raw:
            return ParsedFeed([], title, "malformed", message, None, 0)
        warnings.insert(0, message)
    entries, dropped = _collect(raw, url)
    entries, truncated = _newest(entries, max_entries)
    warning = "; ".join(warnings) or None
    return ParsedFeed(entries, title, None, None, warning, dropped, truncated)


def _prepare(text: str) -> tuple[str | None, str | None]:
    """(XML with a clean prolog, warning) or (None, why it is not a feed)."""
    head = text[:SNIFF_CHARS]
    root = _ROOT_RE.search(text)
    html = _HTML_RE.search(head)
    if html is not None and (root is None or html.start() < root.start()):
        found = _TITLE_RE.search(head)
        title = " ".join(found.group(1).split()) if found else ""
        return None, f"got an HTML page{f' ({title!r})' if title else ''}, not a feed"
    if root is None:
        if not head.strip():
            return None, "empty body"
        return None, "no <rss>, <feed> or <rdf:RDF> root element: not an RSS/Atom feed"
    xml, removed = _XML_INVALID_RE.subn("", text[root.start() :])
    note = f"{removed} character(s) not allowed in XML removed" if removed else None
    return _XML_DECL + xml, note


def _collect(raw: Iterable[Any], feed_url: str) -> tuple[list[FeedEntry], int]:
    """Build entries with absolute links; drop linkless ones and repeated guids."""
    entries: list[FeedEntry] = []
    seen: set[str] = set()
    dropped = 0
    for item in raw:
        entry = _entry(item, feed_url)
        if entry is None or entry.guid in seen:
            dropped += 1
            continue
        seen.add(entry.guid)
        entries.append(entry)
    return entries, dropped


def _entry(item: Any, feed_url: str) -> FeedEntry | None:
    """One FeedEntry from a feedparser entry, or None without a usable http(s) link.

    The guid is the entry's id, else its link (entries without a link are dropped, so a
    guid is never empty).
    """
    link = _link(item, feed_url)
    if link is None:
        return None
    title = _title(item)
    published = _datetime(item.get("published_parsed") or item.get("updated_parsed"))
    return FeedEntry(
        guid=_clean(item.get("id")) or link,
        url=link,
        title=title,
        author=_clean(item.get("author")),
        published_at=published,
        content_html=_content(item),
    )


def _link(item: Any, feed_url: str) -> str | None:
    """The entry's article link made absolute; alternates and permalink guids as fallbacks."""
    candidates = [item.get("feedburner_origlink"), item.get("link")]
    for link in item.get("links", []) or []:
        if link.get("rel", "alternate") == "alternate":
            candidates.append(link.get("href"))
    if item.get("guidislink") or str(item.get("id", "")).startswith(("http://", "https://")):
        candidates.append(item.get("id"))
    for candidate in candidates:
        if not isinstance(candidate, str) or not candidate.strip():
            continue
        absolute = urljoin(feed_url, candidate.strip())
        parts = urlsplit(absolute)
        if parts.scheme in ("http", "https") and parts.hostname:
            return absolute
    return None


def _content(item: Any) -> str | None:
    """The longest of content:encoded / content / summary."""
    values = [c.get("value") for c in item.get("content", []) or []]
    values.append(item.get("summary"))
    texts = [v for v in values if isinstance(v, str) and v.strip()]
    return max(texts, key=len) if texts else None


def _datetime(parsed: time.struct_time | None) -> datetime | None:
    """feedparser's UTC struct_time as a tz-aware datetime."""
    if parsed is None:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(parsed), tz=UTC)
    except (OverflowError, ValueError, OSError):
        return None


def _newest(entries: list[FeedEntry], limit: int) -> tuple[list[FeedEntry], int]:
    """Keep at most ``limit`` entries, the newest ones when the feed has more."""
    if len(entries) <= limit:
        return entries, 0
    oldest = datetime.min.replace(tzinfo=UTC)
    ranked = sorted(entries, key=lambda e: e.published_at or oldest, reverse=True)
    return ranked[:limit], len(entries) - limit


def _title(node: Any) -> str | None:
    """A feed's or entry's title as plain text (markup removed from HTML titles)."""
    title = node.get("title")
    detail = node.get("title_detail") or {}
    if isinstance(title, str) and "html" in str(detail.get("type", "")):
        title = html.unescape(_TAGS_RE.sub(" ", title))
    return _clean(title)


def _clean(value: Any) -> str | None:
    """Collapse whitespace; empty or non-string values become None."""
    if not isinstance(value, str):
        return None
    return " ".join(value.split()) or None
