"""A batch of ``store_article`` writes applied set-wise, for a DuckLake commit of many articles.

On a lake every statement asks the PostgreSQL catalog for its snapshot (about 20 ms here), and
``store_article`` runs eight statements per article. Applied together, a batch costs the same
eight statements whatever its size: the lookups (canonical URLs, exact text hashes, LSH bands)
read once for the batch, the decisions are made in order in Python exactly as one-by-one writes
would make them (an article sees the originals stored earlier in the batch), and the entry
links, documents, articles and band rows go in as one statement each. The sink runs it inside
one transaction that passes the lake's write gate, so its keys stay unique under concurrent
writers as a single article's do.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from warehouse import lsh as neardup
from warehouse import query
from warehouse.db import insert_rows, registered

LINKS = pa.schema(
    [
        ("canonical_url", pa.string()),
        ("article_id", pa.string()),
        ("state", pa.string()),
        ("linked_at", pa.timestamp("us", tz="UTC")),
    ]
)


@dataclass(frozen=True)
class ArticleWrite:
    """The rows one ``store_article`` write stores (``warehouse.article_ops.StoreArticle.write``)."""

    article: dict[str, Any]
    document: dict[str, Any] | None
    entry_url: str
    threshold: float
    now: datetime


class _Originals:
    """The originals a batch's articles may copy: those stored before it (looked up once) and
    those stored earlier in the batch, in the order one-by-one writes would consult them."""

    def __init__(self, con: duckdb.DuckDBPyConnection, writes: Sequence[ArticleWrite]) -> None:
        """Read the stored originals sharing a text hash or an LSH bucket with the batch."""
        hashes = sorted({w.article["text_hash"] for w in writes})
        self.by_hash: dict[str, str] = dict(query.rows(con, "originals_by_hashes", {"hashes": hashes}))
        self.sigs = {id(w): neardup.from_bytes(w.article["fingerprint"]) for w in writes}
        self.bands = {k: set(neardup.bands(sig)) for k, sig in self.sigs.items()}
        buckets = " ".join(sorted({str(b) for bands in self.bands.values() for _, b in bands}))
        self.band_rows: dict[tuple[int, int], list[str]] = {}
        for band, bucket, article_id in (
            query.rows(con, "neardup_candidates", {"buckets": buckets}) if buckets else []
        ):
            self.band_rows.setdefault((band, bucket), []).append(article_id)
        ids = sorted({a for ids in self.band_rows.values() for a in ids})
        stored = query.rows(con, "originals_by_id", {"ids": ids}) if ids else []
        self.stored: list[tuple[str, np.ndarray]] = [(a, neardup.from_bytes(fp)) for a, fp in stored]
        self.batch: list[tuple[str, int]] = []  # (article_id, id of its write) stored in this batch

    def duplicate_of(self, w: ArticleWrite) -> tuple[str, str, float] | None:
        """(article_id, 'exact' | 'near', resemblance) of the earliest original ``w`` copies."""
        text_hash = w.article["text_hash"]
        if text_hash in self.by_hash:
            return self.by_hash[text_hash], "exact", 1.0
        mine, sig = self.bands[id(w)], self.sigs[id(w)]
        wanted = {a for key in mine for a in self.band_rows.get(key, ())}
        for article_id, other in self.stored:
            if article_id in wanted:
                score = neardup.resemblance(sig, other)
                if score >= w.threshold:
                    return article_id, "near", score
        for article_id, key in self.batch:
            if mine & self.bands[key]:
                score = neardup.resemblance(sig, self.sigs[key])
                if score >= w.threshold:
                    return article_id, "near", score
        return None

    def add(self, w: ArticleWrite) -> None:
        """``w`` was stored as an original: later articles of the batch may copy it."""
        self.by_hash.setdefault(w.article["text_hash"], w.article["article_id"])
        self.batch.append((w.article["article_id"], id(w)))


def store_articles(con: duckdb.DuckDBPyConnection, writes: Sequence[ArticleWrite]) -> list[str]:
    """Store a batch of articles as one-by-one ``store_article`` writes would, in a few statements;
    each write's outcome: 'stored', 'duplicate' or 'known'."""
    urls = sorted({w.article["canonical_url"] for w in writes})
    by_url: dict[str, str] = dict(query.rows(con, "articles_by_urls", {"urls": urls}))
    originals = _Originals(con, writes)
    outcomes: list[str] = []
    links: dict[str, dict[str, Any]] = {}
    documents: list[dict[str, Any]] = []
    articles: list[dict[str, Any]] = []
    bands: list[dict[str, Any]] = []
    for w in writes:
        known = by_url.get(w.article["canonical_url"])
        if known is not None:
            links.setdefault(w.entry_url, _link(w, known, "duplicate"))
            outcomes.append("known")
            continue
        dup = originals.duplicate_of(w)
        article = {
            **w.article,
            "duplicate_of": dup[0] if dup else None,
            "duplicate_kind": dup[1] if dup else None,
            "resemblance": dup[2] if dup else None,
        }
        by_url[article["canonical_url"]] = article["article_id"]
        links.setdefault(w.entry_url, _link(w, article["article_id"], "stored"))
        if w.document is not None:
            documents.append(w.document)
        articles.append(article)
        if dup is None:
            originals.add(w)
            bands += [
                {"band": band, "bucket": bucket, "article_id": article["article_id"]}
                for band, bucket in sorted(originals.bands[id(w)])
            ]
        outcomes.append("duplicate" if dup else "stored")
    _write(con, list(links.values()), documents, articles, bands)
    return outcomes


def _link(w: ArticleWrite, article_id: str, state: str) -> dict[str, Any]:
    """One row of the article_links relation."""
    return {"canonical_url": w.entry_url, "article_id": article_id, "state": state, "linked_at": w.now}


def _write(
    con: duckdb.DuckDBPyConnection,
    links: list[dict[str, Any]],
    documents: list[dict[str, Any]],
    articles: list[dict[str, Any]],
    bands: list[dict[str, Any]],
) -> None:
    """The batch's rows, one statement per table (the entry UPDATE first: on a DuckLake an UPDATE
    after the same transaction's inserts costs several times more)."""
    if links:
        with registered(con, "article_links", "entries", links, schema=LINKS):
            query.rows(con, "entries_link_articles")
    insert_rows(con, "documents", documents, skip_existing=("document_id",))
    if articles:
        schema = _union_schema(con, articles)
        insert_rows(con, "articles", [{k: a.get(k) for k in schema.names} for a in articles], schema=schema)
    insert_rows(con, "article_bands", bands)


def _union_schema(con: duckdb.DuckDBPyConnection, articles: list[dict[str, Any]]) -> pa.Schema:
    """The articles columns any row of the batch gives (rows may differ, e.g. a missing author)."""
    from warehouse.rows import arrow_schema

    columns = list(dict.fromkeys(k for a in articles for k in a))
    return arrow_schema(con, "articles", columns)
