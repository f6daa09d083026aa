"""Batched lake commits: many writes per transaction, applied set-wise, with the same outcome as
one by one; a failing write falls back to one per transaction; commits sized by count and bytes;
a score shard's article ids filtered in SQL."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pytest

from flows.orchestration.fanout import shard_of
from tests.adhoc_ops import Adhoc
from tests.conftest import BACKENDS
from tests.test_store import T0, article, article_text, document, real_texts, wire_copy
from warehouse import db
from warehouse.article_ops import StoreArticle
from warehouse.ingest_ops import FailEntries
from warehouse.lake import Lake
from warehouse.ops import WriteOp
from warehouse.score_ops import articles_to_score
from warehouse.sink import Sink, commit_groups, op_bytes

NewWarehouse = Callable[[str], db.Location]


def batch_ops() -> list[StoreArticle]:
    """Writes that exercise every decision: stored, known (in the warehouse and earlier in the
    batch), an exact and a near copy of an original stored before the batch and of one in it, and a
    page shared by two articles."""
    one, two, three = real_texts(3)
    arts = [
        article_text("http://x/two", two, 1),  # a copy of nothing stored yet
        article_text("http://x/one", one, 2),  # known: stored before the batch
        article_text("http://x/exact-one", one, 3),  # exact copy of an earlier original
        article_text("http://x/near-one", wire_copy(one, 1), 4),  # near copy of the stored original
        article_text("http://x/near-two", wire_copy(two, 2), 5),  # near copy of one stored in this batch
        article_text("http://x/exact-two", two, 6),  # exact copy of one stored in this batch
        article_text("http://x/two", two, 7),  # known: stored earlier in this batch
        article_text("http://x/three", three, 8),
    ]
    docs: list[dict[str, Any] | None] = [document("http://x/page")] * 2 + [None] * 6
    return [StoreArticle(a, d, a.canonical_url, 0.5, T0) for a, d in zip(arts, docs, strict=True)]


def seed_entries(con: duckdb.DuckDBPyConnection, ops: list[StoreArticle]) -> None:
    """An original stored before the batch, and one pending entry per write's feed link."""
    (one,) = real_texts(1)
    with db.transaction(con):
        StoreArticle(article_text("http://x/one", one, 0), None, "http://x/one", 0.5, T0).apply(con)
        urls = sorted({op.entry_url for op in ops})
        rows = [
            {
                "source_id": "s",
                "guid": f"g{n}",
                "url": u,
                "canonical_url": u,
                "discovered_at": T0,
                "state": "new",
            }
            for n, u in enumerate(urls)
        ]
        db.insert_rows(con, "entries", rows)


def tables(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[Any, ...]]]:
    """What the writes leave: articles with their duplicate marks, bands, documents, entry links."""
    sql = {
        "articles": "SELECT article_id, duplicate_of, duplicate_kind, round(resemblance, 6) FROM articles",
        "bands": "SELECT band, bucket, article_id FROM article_bands",
        "documents": "SELECT document_id FROM documents",
        "entries": "SELECT canonical_url, state, article_id, attempts FROM entries",
    }
    return {name: sorted(con.execute(q).fetchall(), key=repr) for name, q in sql.items()}


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_batch_stores_what_one_by_one_writes_store(new_warehouse: NewWarehouse, backend: str) -> None:
    ops = batch_ops()
    one_by_one, batched = new_warehouse(backend), new_warehouse(backend)
    with db.writer(one_by_one) as con:
        seed_entries(con, ops)
        with db.transaction(con):
            expected = [op.apply(con) for op in ops]
        want = tables(con)
    with db.writer(batched) as con:
        seed_entries(con, ops)
        with db.transaction(con):
            got = StoreArticle.apply_many(con, ops)
        have = tables(con)
    assert expected == [
        "stored",
        "known",
        "duplicate",
        "duplicate",
        "duplicate",
        "duplicate",
        "known",
        "stored",
    ]
    assert got == expected
    assert have == want


def test_a_lake_commits_a_batch_once_and_a_failing_write_alone(
    new_warehouse: NewWarehouse, tmp_path: Path
) -> None:
    lake = new_warehouse("ducklake")
    assert isinstance(lake, Lake)
    sink = Sink(lake, tmp_path / "spool", 5.0, commit_ops=64)
    ops = batch_ops()
    with db.writer(lake) as con:
        seed_entries(con, ops)
        before = con.execute("SELECT writes FROM lake_write_gate").fetchone()
    assert sink.apply(ops[:4]) is not None
    with db.reader(lake) as con:
        after = con.execute("SELECT writes FROM lake_write_gate").fetchone()
    assert before is not None and after == (before[0] + 1,)  # four articles, one commit
    bad = Adhoc(lambda c: c.execute("SELECT 1 FROM no_such_table"))
    results = sink.apply([*ops[4:6], bad, *ops[6:]])
    assert results is not None
    assert [type(r).__name__ if isinstance(r, Exception) else r for r in results] == [
        "duplicate",
        "duplicate",
        "CatalogException",
        "known",
        "stored",
    ]
    with db.reader(lake) as con:
        assert con.execute("SELECT count(*), count(DISTINCT canonical_url) FROM articles").fetchone() == (
            7,
            7,
        )


def test_commits_are_sized_by_count_and_bytes() -> None:
    small = [FailEntries(f"u{n}", "http", "e", 3, T0) for n in range(10)]
    assert [len(g) for g in commit_groups(small, 4, 10**6)] == [4, 4, 2]
    big = [FailEntries("u", "http", "e" * 1000, 3, T0) for _ in range(5)]
    assert op_bytes(big[0]) > 1000
    assert [len(g) for g in commit_groups(big, 64, 2500)] == [2, 2, 1]
    assert [len(g) for g in commit_groups(big, 64, 10)] == [1, 1, 1, 1, 1]  # too big alone: alone
    ops: list[WriteOp] = [*small]
    assert sum(len(g) for g in commit_groups(ops, 1, 10**6)) == 10


def test_a_score_shard_reads_only_its_article_ids(new_warehouse: NewWarehouse) -> None:
    location = new_warehouse("duckdb")
    texts = real_texts(1) * 40
    with db.writer(location) as con, db.transaction(con):
        for n, text in enumerate(texts):
            row = article(f"http://x/{n}", f"{text} {n}", n)
            db.insert_rows(con, "articles", [{**row, "text_hash": f"h{n}"}])
    with db.reader(location) as con:
        every = [a.article_id for a in articles_to_score(con, "m", 1000)]
        shards = [[a.article_id for a in articles_to_score(con, "m", 1000, "", (k, 3))] for k in range(3)]
    assert len(every) == 40 and sorted(a for s in shards for a in s) == every
    assert all(shard_of(a, 3) == k for k, ids in enumerate(shards) for a in ids)


def test_a_relative_data_path_is_absolute_everywhere_and_another_path_is_one_line(
    new_warehouse: NewWarehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert Lake("dbname=x", "lake-data") == Lake("dbname=x", str(tmp_path / "lake-data"))
    assert Lake("dbname=x", "s3://b/p/").data_path == "s3://b/p/"
    lake = new_warehouse("ducklake")
    assert isinstance(lake, Lake)
    with db.writer(lake):
        pass
    elsewhere = Lake(lake.catalog, str(tmp_path / "another-data-path"))
    with pytest.raises(db.WarehouseError, match="is not the data path") as caught:
        db.connect(elsewhere, fresh=True)
    assert "\n" not in str(caught.value) and lake.data_path in str(caught.value)
