"""A batch of feed polls written set-wise (one guid lookup, one entries insert) leaves what the
polls written one after the other leave, counts of new entries included, on both backends."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import duckdb
import pytest

from flows.ingest.sources import Source
from tests.conftest import BACKENDS
from tests.test_store import T0
from warehouse import db
from warehouse.ingest_ops import PollRecord, record_poll, sync_sources
from warehouse.poll_ops import record_polls


def entry(source_id: str, guid: str) -> dict[str, Any]:
    """A feed item of ``source_id``."""
    url = f"http://x/{source_id}/{guid}"
    row = {"source_id": source_id, "guid": guid, "url": url, "canonical_url": url, "discovered_at": T0}
    return {**row, "state": "new", "attempts": 0}


def poll(source_id: str, guids: list[str]) -> PollRecord:
    """A parsed poll of ``source_id`` carrying ``guids``."""
    fetch = {"run_id": None, "source_id": source_id, "url": f"http://x/{source_id}", "started_at": T0}
    fetch |= {"status_code": 200, "not_modified": False, "entries_seen": len(guids), "bytes": 10}
    return PollRecord(fetch, [entry(source_id, g) for g in guids], ok=True, etag=f"e-{source_id}")


def polls() -> list[tuple[str, PollRecord]]:
    """Known and new guids, a guid repeated in one feed, a feed polled twice, an empty feed."""
    return [
        ("a", poll("a", ["a1", "a2", "a3"])),  # a1 stored before the batch
        ("b", poll("b", ["b1", "b1", "a2"])),  # a repeated guid; a2 is another source's
        ("c", poll("c", [])),
        ("a", poll("a", ["a3", "a4"])),  # a3 came in earlier in this batch
    ]


def seeded(con: duckdb.DuckDBPyConnection) -> None:
    """Three sources, and source a's first item stored."""
    rows = [Source(s, s.upper(), f"http://x/{s}", "KR", "ko", "newspaper").row() for s in "abc"]
    with db.transaction(con):
        sync_sources(con, rows, T0)
        db.insert_rows(con, "entries", [entry("a", "a1")])


def tables(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[Any, ...]]]:
    """Entries, attempt rows with their counts of new entries, and source state."""
    sql = {
        "entries": "SELECT source_id, guid FROM entries",
        "fetches": "SELECT source_id, entries_seen, entries_new FROM feed_fetches",
        "sources": "SELECT source_id, etag FROM sources",
    }
    return {name: sorted(con.execute(q).fetchall(), key=repr) for name, q in sql.items()}


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_batch_of_polls_records_what_polls_one_by_one_record(
    new_warehouse: Callable[[str], db.Location], backend: str
) -> None:
    now = T0 + timedelta(minutes=5)
    one_by_one, batched = new_warehouse(backend), new_warehouse(backend)
    with db.writer(one_by_one) as con:
        seeded(con)
        with db.transaction(con):
            expected = [record_poll(con, source_id, rec, now) for source_id, rec in polls()]
        want = tables(con)
    with db.writer(batched) as con:
        seeded(con)
        with db.transaction(con):
            got = record_polls(con, polls(), now)
        have = tables(con)
    assert expected == [2, 3, 0, 1]  # b counts its repeated guid twice, as one by one does
    assert got == expected
    assert have == want
    assert len(have["entries"]) == 6  # a1-a4, b1, b's a2: each (source, guid) once


def test_a_batch_without_entries_inserts_nothing(tmp_path: Any) -> None:
    path = tmp_path / "w.duckdb"
    with db.writer(path) as con:
        seeded(con)
        with db.transaction(con):
            assert record_polls(con, [("c", poll("c", []))], datetime.now(T0.tzinfo)) == [0]
        assert con.execute("SELECT count(*) FROM entries").fetchone() == (1,)
