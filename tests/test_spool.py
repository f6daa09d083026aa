"""The spool: versioned JSON written while the warehouse is locked, replayed exactly once;
files that cannot be replayed are quarantined with a reason and never block the others."""

from __future__ import annotations

import json
import logging
import math
import pickle
import shutil
import subprocess
import sys
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from flows.cli.commands import main
from flows.ingest.sources import Source
from flows.settings import Settings
from tests.test_store import T0, article_text, real_texts
from warehouse import db, spool
from warehouse import ingest_ops as store
from warehouse.article_ops import ArticleText, StoreArticle, article_id_for, document_row
from warehouse.ingest_ops import LinkExisting, RecordPoll, SyncSources
from warehouse.ops import OPS, Op, WriteOp, write_op
from warehouse.sink import Sink


@write_op("test_values")
@dataclass(frozen=True)
class Values(WriteOp):
    """A test write that only carries values: the spool encoder's round trip."""

    values: tuple[Any, ...]

    def apply(self, con: Any) -> None:
        """Nothing to write."""


KST = timezone(timedelta(hours=9))
SEOUL = ZoneInfo("Asia/Seoul")

HOLD_WRITE_LOCK = """
import sys, duckdb
con = duckdb.connect(sys.argv[1])
print("holding", flush=True)
sys.stdin.read()  # hold the write lock until the test closes our stdin
"""


@contextmanager
def write_lock_held(path: Path) -> Iterator[None]:
    """Another process holds the warehouse's DuckDB write lock meanwhile."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_WRITE_LOCK, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        yield
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=10)


@pytest.fixture
def sink(tmp_path: Path) -> Sink:
    """A sink on a fresh, migrated warehouse, spooling after 0.3 s of lock."""
    path = tmp_path / "var" / "axiswatch.duckdb"
    with db.writer(path):
        pass
    return Sink(path, tmp_path / "var" / "spool", patience=0.3)


def source_row() -> dict[str, Any]:
    return Source("s", "S", "http://x/feed", "KR", "ko", "newspaper").row()


def poll(now: datetime) -> store.PollRecord:
    """A failed-then-parsed poll carrying tz-aware datetimes in its rows and fields."""
    fetch = {"run_id": None, "source_id": "s", "url": "http://x/feed", "started_at": now, "bytes": 10}
    fetch |= {"status_code": 200, "not_modified": False, "entries_seen": 1}
    entry = {"source_id": "s", "guid": "g1", "url": "http://x/a", "canonical_url": "http://x/a"}
    entry |= {"published_at": datetime(2026, 11, 19, 8, 30, 1, 500, tzinfo=KST), "discovered_at": now}
    entry |= {"state": "new", "attempts": 0}
    return store.PollRecord(fetch, [entry], ok=True, etag='W/"e1"', backoff_until=now.astimezone(SEOUL))


def ingest_ops(body: bytes) -> list[Op]:
    """One poll and one article with its document: datetimes with offsets, bytes with every value."""
    (text,) = real_texts(1)
    doc = document_row("http://x/a", "http://x/a", 200, {"content-type": "text/html"}, body, "utf-8", T0)
    art = replace(
        article_text("http://x/a", text, 5),
        published_at=datetime(2026, 11, 19, 23, 59, 59, 123456, tzinfo=KST),
        document_id=doc["document_id"],
    )
    return [
        SyncSources([source_row()], T0),
        RecordPoll("s", poll(T0), T0),
        StoreArticle(art, doc, "http://x/a", 0.5, T0 + timedelta(microseconds=7)),
    ]


def test_locked_warehouse_spools_json_that_replays_exactly_once(sink: Sink) -> None:
    body = bytes(range(256)) * 8
    ops = ingest_ops(body)
    with write_lock_held(sink.path):
        assert sink.apply(ops) is None
        assert sink.locked_by is not None
    (file,) = sink.pending_spool()
    doc = json.loads(file.read_bytes())
    assert doc["format"] == "axiswatch-spool" and doc["version"] == 2
    assert all(o["version"] == OPS[o["op"]].op_version for o in doc["ops"])
    assert datetime.fromisoformat(doc["created_at"]).tzinfo is not None
    assert [o["op"] for o in doc["ops"]] == ["sync_sources", "record_poll", "store_article"]
    assert spool.read(file, OPS) == ops  # every value comes back exactly, types included
    copy = file.with_name("copy")
    shutil.copy(file, copy)

    stored = ops[2]
    assert isinstance(stored, StoreArticle) and stored.document is not None
    assert sink.replay() == 3
    assert sink.pending_spool() == [] and sink.replay() == 0
    copy.rename(file)  # as if a run died after its commit and before deleting the file
    assert sink.replay() == 0 and sink.pending_spool() == []

    with db.reader(sink.path) as con:
        assert con.execute("SELECT count(*) FROM spool_ledger").fetchone() == (1,)
        assert con.execute("SELECT count(*) FROM feed_fetches").fetchone() == (1,)
        got = con.execute("SELECT published_at, fingerprint, document_id FROM articles").fetchall()
        assert got == [
            (stored.article.published_at, stored.article.fingerprint, stored.document["document_id"])
        ]
        (raw,) = con.execute("SELECT raw_html FROM documents").fetchone() or (b"",)
        assert zlib.decompress(raw) == body
        entry = con.execute("SELECT published_at, article_id, state FROM entries").fetchone()
        assert entry == (
            datetime(2026, 11, 19, 8, 30, 1, 500, tzinfo=KST),
            article_id_for("http://x/a"),
            "stored",
        )
        backoff = con.execute("SELECT etag, backoff_until FROM sources").fetchone()
        assert backoff == ('W/"e1"', T0)  # written as Asia/Seoul time, the same instant


def test_values_round_trip_exactly() -> None:
    values: tuple[Any, ...] = (
        datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC),
        datetime(2026, 1, 2, 3, 4, 5, tzinfo=KST),
        datetime(2026, 7, 1, 12, 0, tzinfo=SEOUL),
        datetime(2026, 1, 2, 3, 4, 5),
        date(2026, 2, 28),
        timedelta(days=-1, seconds=5, microseconds=9),
        bytes(range(256)),
        ("a", (1, 2.5), [None, True]),
        {1: "int key", "$ref": "dollar key", "plain": {"nested": b"\x00"}},
        {"x": [float("inf"), float("-inf"), -0.0, 1e308, 0.1]},
        poll(T0),
        "한국어 中文 \u2028",
    )
    (read_back, *_) = spool.loads(spool.dumps([Values(values)], T0), OPS)
    back = read_back.values  # type: ignore[attr-defined]
    assert isinstance(read_back, Values) and back == values
    assert [type(v) for v in back] == [type(v) for v in values]
    assert back[2].tzinfo is SEOUL and back[0].tzinfo is UTC and back[3].tzinfo is None
    assert isinstance(back[7][1], tuple) and isinstance(back[10], store.PollRecord)
    (numbers, *_) = spool.loads(
        spool.dumps([Values((float("nan"), np.float32(0.1), np.int64(7), np.bool_(True)))], T0), OPS
    )
    nan, f32, i64, flag = numbers.values  # type: ignore[attr-defined]
    assert math.isnan(nan) and f32 == float(np.float32(0.1)) and i64 == 7 and flag is True
    with pytest.raises(TypeError, match="cannot spool a value of type object"):
        spool.dumps([Values((object(),))], T0)


class MakesMarker:
    """Unpickling this creates a file: what loading a pickle from a data directory can do."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (open, (str(self.marker), "w"))


def spool_json(ops: list[dict[str, Any]], version: Any = 1) -> bytes:
    return json.dumps(
        {"format": "axiswatch-spool", "version": version, "created_at": T0.isoformat(), "ops": ops}
    ).encode()


def plant_bad_files(spool_dir: Path, marker: Path) -> dict[str, str]:
    """Unreplayable spool files around the valid ones; return name -> expected reason text."""
    legacy = pickle.dumps([SyncSources([MakesMarker(marker)], T0)], protocol=pickle.HIGHEST_PROTOCOL)
    sync = {"op": "sync_sources", "args": [[], {"$datetime": T0.isoformat()}]}
    files = {
        f"{0:020d}-legacy.spool": (legacy, "written by an older axiswatch as a Python pickle"),
        f"{1:020d}-version.spool": (spool_json([sync], version=3), "unknown spool version 3"),
        f"{2:020d}-unknown-op.spool": (
            spool_json([sync, {"op": "drop_everything", "args": []}]),
            "unknown operation 'drop_everything' (write 2)",
        ),
        f"{98:019d}9-corrupt.spool": (spool_json([sync])[:40], "corrupt: not a JSON spool file"),
        f"{99:019d}9-bad-args.spool": (
            spool_json([sync, {"op": "link_existing", "args": ["x"]}]),
            "corrupt: write 2 (link_existing) has the wrong arguments",
        ),
    }
    spool_dir.mkdir(parents=True, exist_ok=True)
    for name, (data, _) in files.items():
        (spool_dir / name).write_bytes(data)
    return {name: reason for name, (_, reason) in files.items()}


def test_unreplayable_files_are_quarantined_and_never_block_the_rest(
    sink: Sink, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    ops = ingest_ops(b"<html>page</html>")
    with write_lock_held(sink.path):
        assert sink.apply(ops[:2]) is None and sink.apply(ops[2:]) is None
    marker = tmp_path / "unpickled-marker"
    expected = plant_bad_files(sink.spool_dir, marker)
    assert len(sink.pending_spool()) == 7

    with caplog.at_level(logging.WARNING, logger="warehouse.spool"):
        assert sink.replay() == 3  # the two valid files, in order, around the bad ones
    assert not marker.exists()  # the legacy pickle was never loaded
    assert sink.pending_spool() == []
    reasons = dict(sink.quarantined())
    assert set(reasons) == set(expected)
    for name, text in expected.items():
        assert text in reasons[name], reasons[name]
        sidecar = sink.spool_dir / "quarantine" / (name + ".reason")
        assert sidecar.read_text().count("\n") == 1 and text in sidecar.read_text()
    assert "with this file back in the spool directory" in reasons[f"{0:020d}-legacy.spool"]
    logged = [r.getMessage() for r in caplog.records if "quarantined" in r.getMessage()]
    assert len(logged) == 5 and all("\n" not in line for line in logged)
    with db.reader(sink.path) as con:
        assert con.execute("SELECT count(*) FROM spool_ledger").fetchone() == (2,)
        assert con.execute("SELECT count(*) FROM articles").fetchone() == (1,)
        assert con.execute("SELECT count(*) FROM sources").fetchone() == (1,)  # bad files changed nothing

    # later runs: the quarantine stays put, and new spool files still replay
    with write_lock_held(sink.path):
        assert sink.apply([LinkExisting("http://x/a", "id", T0)]) is None
    assert sink.replay() == 1 and len(sink.quarantined()) == 5


def test_status_reports_quarantined_files(
    sink: Sink, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings.load(env={}, data_dir=tmp_path / "var")
    assert settings.warehouse_path == sink.path and settings.spool_dir == sink.spool_dir
    expected = plant_bad_files(sink.spool_dir, tmp_path / "marker")
    sink.replay()
    assert main(["status", "--data-dir", str(settings.data_dir), "--json"]) == 1
    snapshot = json.loads(capsys.readouterr().out)
    assert [q["file"] for q in snapshot["quarantined"]] == sorted(expected)
    count_line = (
        f"5 spool file(s) quarantined in {sink.spool_dir / 'quarantine'}: their writes were not applied"
    )
    assert any(line.startswith(count_line) for line in snapshot["attention"])
    for name, text in expected.items():
        assert any(name in line and text in line for line in snapshot["attention"])
    assert main(["status", "--data-dir", str(settings.data_dir)]) == 1
    assert "unknown operation 'drop_everything'" in capsys.readouterr().out


def test_a_version_1_spool_file_still_replays_and_a_newer_op_version_is_refused() -> None:
    link = {"op": "link_existing", "args": ["http://x/a", "id", {"$datetime": T0.isoformat()}]}
    old = {"format": "axiswatch-spool", "version": 1, "created_at": T0.isoformat(), "ops": [link]}
    (op,) = spool.loads(json.dumps(old).encode(), OPS)
    assert op == LinkExisting("http://x/a", "id", T0)
    newer = {**old, "version": 2, "ops": [{**link, "version": 9}]}
    with pytest.raises(spool.SpoolError, match=r"'link_existing' of version 9 .* writes version 1"):
        spool.loads(json.dumps(newer).encode(), OPS)
    wrong = {**old, "ops": [{"op": "link_existing", "args": ["only one"]}]}
    with pytest.raises(spool.SpoolError, match=r"link_existing.*wrong arguments"):
        spool.loads(json.dumps(wrong).encode(), OPS)


def test_a_version_1_store_article_carrying_its_row_reads_as_the_same_write() -> None:
    """An older release spooled store_article with the articles row built; it reads back as the
    typed write that builds that very row, and a row with a column no articles row has is refused."""
    (text,) = real_texts(1)
    for published in ({}, {"page_published_at": T0 - timedelta(days=1), "published_at": None}):
        op = StoreArticle(replace(article_text("http://x/a", text, 5), **published), None, "u", 0.5, T0)
        args = [op.article.row(), None, "u", 0.5, T0]
        item = {"op": "store_article", "version": 1, "args": [spool.encode(a) for a in args]}
        old = {"format": "axiswatch-spool", "version": 2, "created_at": T0.isoformat(), "ops": [item]}
        (back,) = spool.loads(json.dumps(old).encode(), OPS)
        assert back == op and isinstance(back, StoreArticle) and back.article.row() == op.article.row()
    fetched = ArticleText("http://x/b", "http://x/b", "s", "t", "h", b"f", "feed_content", T0)
    assert ArticleText.from_row(fetched.row()) == fetched and fetched.row()["published_source"] == "fetched"
    item["args"][0] = {**spool.encode(op.article.row()), "duplicate_of": "x"}
    with pytest.raises(spool.SpoolError, match=r"store_article.*wrong arguments.*duplicate_of"):
        spool.loads(json.dumps({**old, "ops": [item]}).encode(), OPS)
