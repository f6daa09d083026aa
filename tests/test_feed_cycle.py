"""The work-pool cycle's wave times (flows/tools/feed_cycle_pool.py) come from the runs rows of
one parent run's shard runs: per stage, the first shard's start to the last one's finish."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from flows.tools.feed_cycle_pool import waves
from warehouse.run_ops import FinishRun, StartRun
from warehouse.sink import Sink

T0 = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)


def test_waves_span_each_stages_shards_of_one_parent_only(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    sink = Sink(path, tmp_path / "spool", 5.0)
    at = lambda s: T0 + timedelta(seconds=s)  # noqa: E731
    sink.apply(
        [StartRun(1, "pipeline", at(0), "manual", "parent-a"), StartRun(2, "pipeline", at(0), "manual", "b")]
    )
    shards = [  # (run id, flow, parent run id, start, finish)
        (10, "ingest-shard-1/2", 1, 5, 30),
        (11, "ingest-shard-2/2", 1, 7, 41),
        (12, "score-shard-1/2", 1, 45, 60),
        (13, "score-shard-2/2", 1, 46, 58),
        (20, "ingest-shard-1/1", 2, 0, 500),  # another parent's shard: not counted
    ]
    for run_id, flow, parent, start, finish in shards:
        sink.apply([StartRun(run_id, flow, at(start), f"shard:{parent}", f"p{run_id}")])
        sink.apply([FinishRun(run_id, at(finish), {"outcome": "ok"})])
    assert waves(path, "parent-a") == {
        "ingest": {"shards": 2, "seconds": 36.0},
        "score": {"shards": 2, "seconds": 15.0},
    }
    assert waves(path, "unknown") == {}
