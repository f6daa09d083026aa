"""Storing one article: its rows built from typed inputs, duplicates decided, one transaction.

The ingest stage hands over what it found as an ``ArticleText`` (the chosen text with its hash and
MinHash fingerprint, the extraction method, title, author, dates, canonical URL) and, for a fetched
page, the ``documents`` row from ``document_row``. ``ArticleText.row`` builds the ``articles`` row
(id, character count, which date is the published one and where it came from), and
``StoreArticle`` stores it: 'stored', 'duplicate' (an exact or near copy of an earlier original,
kept and marked ``duplicate_of``) or 'known' (its canonical URL is already stored). A run of these
writes on a lake goes in set-wise (``warehouse.article_batch``).
"""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

import duckdb

from warehouse import lsh as neardup
from warehouse import query
from warehouse.article_batch import ArticleWrite, store_articles
from warehouse.db import insert_rows
from warehouse.ops import WriteOp, record, write_op


def article_id_for(canonical_url: str) -> str:
    """Stable article id: first 16 hex digits of sha256(canonical URL)."""
    return hashlib.sha256(canonical_url.encode("utf-8")).hexdigest()[:16]


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


@record("article_text")
@dataclass(frozen=True)
class ArticleText:
    """What the ingest stage found for one article: the typed inputs of its ``articles`` row.

    ``text`` is already cleaned, ``text_hash`` and ``fingerprint`` are computed from it (outside
    the write's transaction); ``published_at`` is the feed's date, ``page_published_at`` the page's.
    """

    canonical_url: str
    url: str
    source_id: str
    text: str
    text_hash: str
    fingerprint: bytes
    method: str
    extracted_at: datetime
    document_id: str | None = None
    title: str | None = None
    author: str | None = None
    site_name: str | None = None
    language: str | None = None
    published_at: datetime | None = None
    page_published_at: datetime | None = None
    run_id: int | None = None

    def row(self) -> dict[str, Any]:
        """The articles row (its duplicate columns are decided when it is stored): the published
        date is the feed's, else the page's, else the time of extraction ('fetched')."""
        if self.published_at is not None:
            published, published_source = self.published_at, "feed"
        elif self.page_published_at is not None:
            published, published_source = self.page_published_at, "page"
        else:
            published, published_source = self.extracted_at, "fetched"
        return {
            "article_id": article_id_for(self.canonical_url),
            "canonical_url": self.canonical_url,
            "url": self.url,
            "source_id": self.source_id,
            "document_id": self.document_id,
            "title": self.title,
            "author": self.author,
            "site_name": self.site_name,
            "published_at": published,
            "published_source": published_source,
            "language": self.language,
            "text": self.text,
            "text_chars": len(self.text),
            "text_hash": self.text_hash,
            "fingerprint": self.fingerprint,
            "extraction_method": self.method,
            "extracted_at": self.extracted_at,
            "run_id": self.run_id,
        }

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> ArticleText:
        """The inputs an articles row was built from (how a version 1 ``store_article`` write,
        which carried the row itself, is read); TypeError when the row is not such a row."""
        derived = {"article_id", "text_chars", "published_source", "extraction_method"}
        columns = derived | {f.name for f in fields(cls)} - {"method", "page_published_at"}
        unknown = set(row) - columns
        if unknown or "extraction_method" not in row:
            missing = "" if "extraction_method" in row else " (no extraction_method)"
            raise TypeError(f"not an articles row: unknown column(s) {', '.join(sorted(unknown))}{missing}")
        source = row.get("published_source", "feed")
        if source not in ("feed", "page", "fetched"):
            raise TypeError(f"not an articles row: published_source {source!r}")
        keep = {k: v for k, v in row.items() if k not in derived and k != "published_at"}
        text = cls(
            **keep,
            method=row["extraction_method"],
            published_at=row.get("published_at") if source == "feed" else None,
            page_published_at=row.get("published_at") if source == "page" else None,
        )
        built = text.row()
        if any(built[k] != row[k] for k in ("article_id", "text_chars", "published_at") if k in row):
            raise TypeError(
                f"not an articles row: its derived columns do not match ({row.get('article_id')})"
            )
        return text


def existing_article(con: duckdb.DuckDBPyConnection, canonical_url: str) -> str | None:
    """The article id already stored under this canonical URL, if any."""
    rows = query.rows(con, "article_by_url", {"canonical_url": canonical_url})
    return rows[0][0] if rows else None


def existing_articles(con: duckdb.DuckDBPyConnection, canonical_urls: Sequence[str]) -> dict[str, str]:
    """The article id stored under each of these canonical URLs, where there is one (one query)."""
    if not canonical_urls:
        return {}
    return dict(query.rows(con, "articles_by_urls", {"urls": sorted(set(canonical_urls))}))


def find_duplicate(
    con: duckdb.DuckDBPyConnection, text_hash: str, fingerprint: bytes, threshold: float
) -> tuple[str, str, float] | None:
    """(article_id, 'exact' | 'near', resemblance) of the earliest original this text copies."""
    rows = query.rows(con, "article_by_hash", {"text_hash": text_hash})
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
    rows = query.rows(con, "neardup_candidates", {"buckets": bucket_text(bands)})
    ids = sorted({article_id for band, bucket, article_id in rows if (band, bucket) in wanted})
    return [(row[0], row[1]) for row in query.rows(con, "originals_by_id", {"ids": ids})] if ids else []


def bucket_text(bands: Sequence[tuple[int, int]]) -> str:
    """The buckets of (band, bucket) pairs in band order, as the band queries take them."""
    return " ".join(str(int(bucket)) for _, bucket in sorted(bands))


def _link(con: duckdb.DuckDBPyConnection, state: str, article_id: str, entry_url: str, now: datetime) -> None:
    """Link the entries of one feed link to an article."""
    params = {"state": state, "article_id": article_id, "canonical_url": entry_url, "now": now}
    query.rows(con, "entries_link_article", params)


def store_article(
    con: duckdb.DuckDBPyConnection,
    article: dict[str, Any],
    document: dict[str, Any] | None,
    entry_url: str,
    threshold: float,
    now: datetime,
) -> str:
    """Store one articles row with its document and links from the entries of ``entry_url`` (their
    canonical feed link): 'stored', 'duplicate' (exact or near copy of an earlier original:
    stored, marked duplicate_of) or 'known' (its canonical URL is already stored)."""
    known = existing_article(con, article["canonical_url"])
    if known is not None:
        _link(con, "duplicate", known, entry_url, now)
        return "known"
    dup = find_duplicate(con, article["text_hash"], article["fingerprint"], threshold)
    article = {
        **article,
        "duplicate_of": dup[0] if dup else None,
        "duplicate_kind": dup[1] if dup else None,
        "resemblance": dup[2] if dup else None,
    }
    # the entry UPDATE first: on a DuckLake an UPDATE after this transaction's inserts costs ~5x
    _link(con, "stored", article["article_id"], entry_url, now)
    if document is not None and not query.rows(
        con, "document_by_id", {"document_id": document["document_id"]}
    ):
        insert_rows(con, "documents", [document])
    insert_rows(con, "articles", [article])
    if dup is None:  # only originals are candidates for later copies
        bands = neardup.bands(neardup.from_bytes(article["fingerprint"]))
        query.rows(con, "insert_bands", {"buckets": bucket_text(bands), "article_id": article["article_id"]})
    return "duplicate" if dup else "stored"


def _store_article_v1(
    article: dict[str, Any], document: dict[str, Any] | None, entry_url: str, threshold: float, now: datetime
) -> StoreArticle:
    """A version 1 ``store_article`` write (spooled by an older axiswatch, carrying the articles
    row itself), as the current write of the same row."""
    if not isinstance(article, Mapping):
        raise TypeError("a version 1 store_article write carries an articles row")
    return StoreArticle(ArticleText.from_row(article), document, entry_url, threshold, now)


@write_op("store_article", version=2, older={1: _store_article_v1})
@dataclass(frozen=True)
class StoreArticle(WriteOp):
    """One article with its document, linked from the entries of its feed link (one transaction)."""

    article: ArticleText
    document: dict[str, Any] | None
    entry_url: str
    threshold: float
    now: datetime

    def write(self) -> ArticleWrite:
        """The rows this write stores (the articles row built from its inputs)."""
        return ArticleWrite(self.article.row(), self.document, self.entry_url, self.threshold, self.now)

    def apply(self, con: duckdb.DuckDBPyConnection) -> str:
        """store_article: 'stored', 'duplicate' or 'known'."""
        return store_article(con, self.article.row(), self.document, self.entry_url, self.threshold, self.now)

    @classmethod
    def apply_many(cls, con: duckdb.DuckDBPyConnection, ops: Sequence[Any]) -> list[Any]:
        """A batch of articles in a few statements (warehouse.article_batch), as if one by one."""
        if len(ops) == 1:
            return [ops[0].apply(con)]
        return list(store_articles(con, [o.write() for o in ops]))
