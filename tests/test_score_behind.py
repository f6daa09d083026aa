"""Scoring behind ingest: articles are scored while ingest still fetches, with the same results."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from flows.pipeline import ingest_and_score, ingest_stage
from flows.score import behind
from flows.score import stage as score
from flows.settings import Settings
from flows.tools.loopback import LoopbackServer
from models.classifier import StanceClassifier
from tests.ingest_site import build_site
from tests.stages import run_ingest, run_score
from warehouse.db import WarehouseError, reader, shared_by_threads, writer
from warehouse.score_ops import ArticleToScore
from warehouse.sink import Sink

SCORES = "SELECT article_id, label, round(score, 6) FROM article_scores ORDER BY article_id"


def site(loopback: LoopbackServer, path: Path) -> Settings:
    """The ingest test site, fetched two pages per batch (so ingest stores in several batches)."""
    path.mkdir(parents=True, exist_ok=True)
    return build_site(loopback, path).replace(batch_size=2)


def rows(settings: Settings, sql: str) -> list[tuple[Any, ...]]:
    with reader(settings.warehouse_path) as con:
        return con.execute(sql).fetchall()


def test_a_batch_is_scored_while_ingest_waits_and_the_scores_equal_a_sequential_run(
    loopback: LoopbackServer, tmp_path: Path
) -> None:
    settings = site(loopback, tmp_path / "overlapped")
    scored_some = threading.Event()

    def score_one(s: Settings, c: StanceClassifier, batch: Sequence[ArticleToScore], sink: Sink) -> int:
        done = score.score_batch(s, c, batch, sink)
        scored_some.set()
        return done

    paused: list[int] = []
    with behind.scoring_behind(settings, score_one, lambda _m: None) as scorer:

        def wake() -> None:
            scorer.wake_up()
            stored = rows_while_open(settings)
            if stored and not paused:  # ingest holds here until the thread has scored that batch
                assert scored_some.wait(120), "nothing was scored while ingest waited"
                paused.append(stored)

        counts = ingest_stage(settings, plain=True, wake=wake)
    assert paused and paused[0] < counts.extracted  # the first scores came before ingest had stored all
    assert scorer.scored == 4
    assert isinstance(score.prepare(settings, settings.sink()), str)  # nothing left: version registered
    sequential = site(loopback, tmp_path / "sequential")
    run_ingest(sequential)
    assert run_score(sequential)[1] == 4
    assert rows(settings, SCORES) == rows(sequential, SCORES)
    assert rows(settings, "SELECT count(*) FROM model_versions") == [(1,)]


def rows_while_open(settings: Settings) -> int:
    """Articles stored so far, read from inside the run (its threads share the file)."""
    with reader(settings.warehouse_path) as con:
        row = con.execute("SELECT count(*) FROM articles").fetchone()
    return int(row[0]) if row else 0


def test_the_pipeline_scores_everything_ingest_stored(
    loopback: LoopbackServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = site(loopback, tmp_path)
    counts, version, scored = ingest_and_score(settings, plain=True)
    originals = rows(settings, "SELECT count(*) FROM articles WHERE duplicate_of IS NULL")[0][0]
    assert counts.extracted == 5 and scored == originals == 4
    assert rows(settings, "SELECT model_version FROM model_versions") == [(version,)]
    loads: list[Settings] = []
    monkeypatch.setattr(score, "load_classifier", loads.append)
    again = ingest_and_score(settings, plain=True)  # nothing new: nothing loads the model
    assert again[0].extracted == 0 and again[2] == 0 and loads == []


def test_a_scoring_error_reaches_the_run(loopback: LoopbackServer, tmp_path: Path) -> None:
    settings = site(loopback, tmp_path)

    def broken(*_args: Any) -> int:
        raise RuntimeError("scoring broke")

    fails = pytest.raises(RuntimeError, match="scoring broke")
    with fails, behind.scoring_behind(settings, broken, lambda _m: None) as scorer:
        ingest_stage(settings, plain=True, wake=scorer.wake_up)
    assert rows(settings, "SELECT count(*) FROM articles")[0][0] == 5  # what ingest stored stays


def test_an_ingest_error_stops_the_scoring_thread(loopback: LoopbackServer, tmp_path: Path) -> None:
    settings = site(loopback, tmp_path)
    with (
        pytest.raises(KeyError),
        behind.scoring_behind(settings, score.score_batch, lambda _m: None) as scorer,
    ):
        scorer.wake_up()
        raise KeyError("ingest broke")
    assert not any(t.name.startswith("score-behind") for t in threading.enumerate())


def test_a_read_beside_another_threads_writer_needs_the_shared_mode(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    with writer(path, patience=1):
        pass  # create it
    with writer(path, patience=1) as held:
        held.execute("SELECT 1")
        with pytest.raises(WarehouseError, match="different configuration"), reader(path, patience=0):
            pass
        with shared_by_threads(path), reader(path, patience=0) as con:
            assert con.execute("SELECT count(*) FROM schema_migrations").fetchone()


def test_threads_opening_and_closing_the_shared_file_at_once_never_collide(tmp_path: Path) -> None:
    """DuckDB's instance cache raced when one thread closed the file's last connection while
    another opened it ("Unique file handle conflict"); without the turn-taking this failed."""
    path = tmp_path / "w.duckdb"
    with writer(path, patience=1):
        pass
    failures: list[str] = []

    def work() -> None:
        try:
            for i in range(300):
                with (writer if i % 2 else reader)(path, patience=5) as con:
                    con.execute("SELECT 1").fetchall()
        except Exception as exc:
            failures.append(repr(exc))

    with shared_by_threads(path):
        threads = [threading.Thread(target=work) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert failures == []
