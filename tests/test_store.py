"""The store_article write: known URLs, exact and near copies, LSH candidates, one-row inserts."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pytest

from flows.ingest import dedup as neardup
from flows.ingest.sources import Source
from flows.ingest.text import text_hash
from flows.settings import PROJECT_ROOT
from flows.tools.demo_site import BENCH_DIR
from tests.conftest import BACKENDS
from warehouse import article_ops as articles
from warehouse import db, query
from warehouse import ingest_ops as store
from warehouse.article_ops import ArticleText

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)

# the candidate query before it took its buckets as one text parameter: the reference semantics
BAND_JOIN = """
SELECT DISTINCT a.article_id, a.fingerprint, a.extracted_at
FROM (SELECT unnest($bands, recursive := true)) q
JOIN article_bands b ON b.band = q.band AND b.bucket = q.bucket
JOIN articles a ON a.article_id = b.article_id
WHERE a.duplicate_of IS NULL
ORDER BY a.extracted_at, a.article_id
"""


def real_texts(count: int) -> list[str]:
    truth = json.loads((BENCH_DIR / "ground-truth.json").read_text(encoding="utf-8"))
    texts = [v["articleBody"] for v in truth.values() if len(v["articleBody"].split()) >= 150]
    return texts[:count]


def wire_copy(text: str, n: int) -> str:
    paragraphs = [p for p in text.split("\n") if p.strip()]
    return f"SEOUL (Wire {n}) -- First published by a partner.\n" + "\n".join(paragraphs[:-1])


def article_text(url: str, text: str, minutes: int) -> ArticleText:
    """A store_article write's article: ``text`` under ``url``, extracted ``minutes`` after T0."""
    return ArticleText(
        canonical_url=url,
        url=url,
        source_id="s",
        text=text,
        text_hash=text_hash(text),
        fingerprint=neardup.to_bytes(neardup.signature(text)),
        method="trafilatura",
        extracted_at=T0 + timedelta(minutes=minutes),
        title=url.rsplit("/", 1)[-1],
        published_at=T0,
    )


def article(url: str, text: str, minutes: int) -> dict[str, Any]:
    """The articles row of ``article_text``."""
    return article_text(url, text, minutes).row()


def document(url: str) -> dict[str, Any]:
    return articles.document_row(url, url, 200, {"content-type": "text/html"}, b"<html></html>", "utf-8", T0)


@pytest.fixture(params=BACKENDS)
def con(
    request: pytest.FixtureRequest, new_warehouse: Callable[[str], db.Location]
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A new migrated warehouse: a DuckDB file, then a DuckLake (the same write path on both)."""
    with db.writer(new_warehouse(request.param)) as connection:
        yield connection


def put(con: duckdb.DuckDBPyConnection, art: dict[str, Any], doc: dict[str, Any] | None = None) -> str:
    with db.transaction(con):
        return str(articles.store_article(con, art, doc, art["canonical_url"], 0.5, T0))


def test_store_article_outcomes_and_bands(con: duckdb.DuckDBPyConnection) -> None:
    one, other = real_texts(2)
    first = article("http://x/one", one, 0)
    assert put(con, first, document("http://x/one")) == "stored"
    assert put(con, article("http://x/one", one, 1)) == "known"
    assert put(con, article("http://x/exact", one, 2), document("http://x/one")) == "duplicate"
    assert put(con, article("http://x/near", wire_copy(one, 1), 3)) == "duplicate"
    assert put(con, article("http://x/other", other, 4)) == "stored"
    marks = con.execute(
        "SELECT title, duplicate_of, duplicate_kind, resemblance >= 0.5 FROM articles ORDER BY extracted_at"
    ).fetchall()
    assert marks == [
        ("one", None, None, None),
        ("exact", first["article_id"], "exact", True),
        ("near", first["article_id"], "near", True),
        ("other", None, None, None),
    ]
    banded = con.execute("SELECT article_id, count(*), count(DISTINCT band) FROM article_bands GROUP BY 1")
    assert sorted(banded.fetchall()) == sorted(
        [
            (first["article_id"], neardup.BANDS, neardup.BANDS),
            (articles.article_id_for("http://x/other"), neardup.BANDS, neardup.BANDS),
        ]
    )
    assert con.execute("SELECT count(*) FROM documents").fetchone() == (1,)  # the shared page once


def test_band_rows_hold_each_band_bucket_in_order(con: duckdb.DuckDBPyConnection) -> None:
    (text,) = real_texts(1)
    put(con, article("http://x/a", text, 0))
    stored = con.execute("SELECT band, bucket FROM article_bands ORDER BY band").fetchall()
    assert stored == neardup.bands(neardup.signature(text))


def insert_banded(con: duckdb.DuckDBPyConnection, row: dict[str, Any]) -> None:
    """An articles row and its band rows, whatever its duplicate_of says (no dedup)."""
    db.insert_rows(con, "articles", [row])
    bands = neardup.bands(neardup.from_bytes(row["fingerprint"]))
    query.rows(con, "insert_bands", {"buckets": articles.bucket_text(bands), "article_id": row["article_id"]})


def test_candidates_are_those_of_the_band_join(con: duckdb.DuckDBPyConnection) -> None:
    texts = real_texts(6)
    base, unrelated = texts[0], texts[1:]
    # several wire copies of base banded as originals (no dedup), unrelated originals, and a
    # banded copy marked duplicate (which the lookup must leave out)
    for n in range(4):
        row = article(f"http://x/copy{n}", wire_copy(base, n), 10 - n)
        insert_banded(con, row)
    for n, text in enumerate(unrelated):
        put(con, article(f"http://x/other{n}", text, 20 + n))
    dup = article("http://x/dup", wire_copy(base, 9), 30)
    insert_banded(con, {**dup, "duplicate_of": articles.article_id_for("http://x/copy0")})
    for text in (base, unrelated[0], "short text with nothing in common"):
        bands = neardup.bands(neardup.signature(text))
        expected = con.execute(BAND_JOIN, {"bands": [{"band": b, "bucket": k} for b, k in bands]}).fetchall()
        assert articles.near_candidates(con, bands) == [(a, f) for a, f, _ in expected]
    found = [a for a, _ in articles.near_candidates(con, neardup.bands(neardup.signature(base)))]
    assert found == [articles.article_id_for(f"http://x/copy{n}") for n in (3, 2, 1, 0)]  # earliest first


def test_copies_in_one_transaction_see_each_other(con: duckdb.DuckDBPyConnection) -> None:
    """A spool file is replayed in one transaction: a copy must find an original written before it."""
    (text,) = real_texts(1)
    with db.transaction(con):
        outcomes = [
            articles.store_article(con, article("http://x/orig", text, 0), None, "http://x/orig", 0.5, T0),
            articles.store_article(
                con, article("http://x/copy", wire_copy(text, 1), 1), None, "http://x/copy", 0.5, T0
            ),
        ]
    assert outcomes == ["stored", "duplicate"]


def test_sync_sources_upserts_all_in_one_keeping_poll_state(con: duckdb.DuckDBPyConnection) -> None:
    def src(sid: str, url: str, **extra: Any) -> dict[str, Any]:
        return Source(sid, sid.title(), url, "KR", "ko", "newspaper", **extra).row()

    store.sync_sources(
        con, [src("a", "http://a/feed"), src("b", "http://b/feed"), src("c", "http://c/f")], T0
    )
    con.execute(
        "UPDATE sources SET etag = 'e-' || source_id, current_feed_url = 'http://moved/' || source_id"
    )
    later = T0 + timedelta(hours=1)
    store.sync_sources(con, [src("a", "http://a/new-feed"), src("b", "http://b/feed", enabled=False)], later)
    got = con.execute(
        "SELECT source_id, feed_url, etag, current_feed_url, active, synced_at FROM sources ORDER BY 1"
    ).fetchall()
    assert got == [
        ("a", "http://a/new-feed", None, None, True, later),  # feed changed: its validators go
        ("b", "http://b/feed", "e-b", "http://moved/b", False, later),
        ("c", "http://c/f", "e-c", "http://moved/c", False, T0),  # no longer configured
    ]
    store.sync_sources(con, [], later + timedelta(hours=1))  # nothing configured: all inactive
    assert con.execute("SELECT count(*) FROM sources WHERE active").fetchone() == (0,)


def test_single_row_insert_converts_values_like_arrow(tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute("SET TimeZone = 'Asia/Seoul'")
    con.execute("CREATE TABLE t (k INTEGER PRIMARY KEY, ts TIMESTAMPTZ, x DOUBLE, b BLOB)")
    naive = datetime(2026, 1, 2, 3, 4, 5)
    db.insert_rows(con, "t", [{"k": np.int64(1), "ts": naive, "x": np.float32(0.5), "b": b"\x00\x01"}])
    db.insert_rows(con, "t", [{"k": 2, "ts": naive}, {"k": 3, "ts": naive}])  # the Arrow path
    assert db.insert_rows(con, "t", [{"k": 1, "x": 9.0}], skip_existing=("k",)) == 1
    got = con.execute("SELECT k, epoch(ts), x, b FROM t ORDER BY k").fetchall()
    utc = naive.replace(tzinfo=UTC).timestamp()
    assert got == [(1, utc, 0.5, b"\x00\x01"), (2, utc, None, None), (3, utc, None, None)]
    with pytest.raises(db.WarehouseError):
        db.insert_rows(con, "t", [{"k = 1; DROP TABLE t; --": 1}])


def test_pipeline_and_scoring_imports_do_not_load_scikit_learn() -> None:
    """scikit-learn (~1.5 s to import) is needed only to fit heads, never to ingest or score."""
    modules = (
        "flows.ingest.pages, flows.ingest.polling, flows.score.stage, warehouse.article_ops, flows.pipeline"
    )
    modules += ", models.registry, models.classifier"
    code = f"import sys, {modules}; print('sklearn' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "False"
