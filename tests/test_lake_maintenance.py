"""Lake maintenance (warehouse/lake_maintenance.py, `axiswatch warehouse maintain`, the
`lake-maintenance` deployment): on a real lake, polls written as inlined rows end up in Parquet
files under the data path, snapshots older than the retention are expired and newer ones kept,
replaced files are removed from disk one retention later, and every table reads the same rows,
`sql` and the report included. On a DuckDB file it is a one-line no-op."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from flows.cli.commands import main
from flows.report.weekly import build_report
from flows.tools.loopback import LoopbackServer
from tests.ingest_site import build_site
from tests.stages import run_ingest
from warehouse import db, lake_maintenance
from warehouse.lake import Lake
from warehouse.lake_maintenance import maintain

NewWarehouse = Callable[[str], db.Location]
META = "__ducklake_metadata_lake"


@dataclass
class State:
    """What a lake holds, read in one session."""

    rows: dict[str, list[tuple[object, ...]]]  # every table, rows sorted
    snapshots: dict[int, datetime]  # id → time
    inlined: int  # row versions held in the catalog's inlined-data tables
    scheduled: list[str]  # files waiting in ducklake_files_scheduled_for_deletion (absolute)
    fetch_files: list[str]  # the data files feed_fetches reads
    fetch_file_rows: int  # rows in those files


def state(lake: Lake) -> State:
    """Read the lake's tables and DuckLake's own metadata (this process's read-only instance)."""
    with db.reader(lake) as con:

        def col(sql: str, *params: object) -> list[Any]:
            return [r[0] for r in con.execute(sql, list(params)).fetchall()]

        names = col("SELECT table_name FROM duckdb_tables() WHERE database_name = 'lake' ORDER BY 1")
        rows = {n: sorted(con.execute(f'SELECT * FROM "{n}"').fetchall(), key=repr) for n in names}
        snaps = dict(
            con.execute("SELECT snapshot_id, snapshot_time FROM ducklake_snapshots('lake')").fetchall()
        )
        tables = col(f"SELECT table_name FROM {META}.ducklake_inlined_data_tables")
        inlined = sum(col(f'SELECT count(*) FROM {META}."{t}"')[0] for t in tables)
        files = col("SELECT data_file FROM ducklake_list_files('lake', 'feed_fetches')")
        in_files = col("SELECT count(*) FROM read_parquet(?)", files)[0] if files else 0
        scheduled = col(f"SELECT path FROM {META}.ducklake_files_scheduled_for_deletion")
    scheduled = [str(Path(lake.data_path) / p) for p in scheduled]  # stored relative to the data path
    return State(rows, snaps, inlined, scheduled, [str(f) for f in files], in_files)


def test_maintenance_flushes_expires_cleans_up_and_keeps_every_row(
    new_warehouse: NewWarehouse,
    loopback: LoopbackServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lake = new_warehouse("ducklake")
    assert isinstance(lake, Lake)
    site = build_site(loopback, tmp_path)
    settings = site.replace(warehouse=f"ducklake:postgres:{lake.catalog}", warehouse_data_path=lake.data_path)
    assert run_ingest(settings).extracted >= 3
    time.sleep(0.05)
    cutoff = datetime.now(UTC)
    time.sleep(0.05)
    run_ingest(settings)  # polled again: more feed fetches, newer snapshots
    before = state(lake)
    assert before.inlined > 0 and before.fetch_files == []  # the polls are rows in the catalog
    young = {i for i, t in before.snapshots.items() if t >= cutoff}
    assert young and len(young) < len(before.snapshots)

    with monkeypatch.context() as m:  # as from another process: this one's instance stays attached
        m.setattr(lake_maintenance.lakes, "forget", lambda _lake: None)
        done = maintain(lake, datetime.now(UTC) - cutoff)
    try:
        after = state(lake)
    except duckdb.Error:  # a stale instance may fail a read (inlined tables the flush dropped) …
        after = state(lake)  # … and, dropped on that error, attaches again: the next read works
    assert done.rows_flushed.get("feed_fetches", 0) > 0 and done.total_flushed == before.inlined
    assert after.inlined == 0 == done.inlined_after and done.inlined_before == before.inlined
    assert after.fetch_files and all(
        f.startswith(lake.data_path) and Path(f).exists() for f in after.fetch_files
    )
    assert after.fetch_file_rows == len(after.rows["feed_fetches"]) > 0  # the polls: Parquet files now
    kept_old = set(after.snapshots) & set(before.snapshots)
    assert kept_old == young and all(i > max(before.snapshots) for i in set(after.snapshots) - young)
    assert done.snapshots_expired == len(before.snapshots) - len(young) > 0
    assert after.rows == before.rows

    run_ingest(settings)  # polled again: sources updated in place (their Parquet file gets deletes)
    mid = state(lake)
    done = maintain(lake, timedelta(days=7))
    after = state(lake)
    assert done.total_flushed == mid.inlined > 0 and after.rows == mid.rows
    # files this pass replaced (rewritten, merged) wait one retention before they are removed
    assert after.scheduled and all(Path(p).exists() for p in after.scheduled) and not done.files_removed

    for key, value in {
        "AXISWATCH_WAREHOUSE": settings.warehouse,
        "AXISWATCH_WAREHOUSE_DATA_PATH": lake.data_path,
    }.items():
        monkeypatch.setenv(key, str(value))
    data_dir = str(tmp_path / "var")
    time.sleep(1.1)
    assert main(["warehouse", "maintain", "--data-dir", data_dir, "--retention-days", str(1 / 86400)]) == 0
    out = capsys.readouterr().out
    last = state(lake)
    assert f"removed {len(after.scheduled)} files" in out and "flushed 0 inlined rows" in out, out
    assert not any(Path(p).exists() for p in after.scheduled)
    assert last.fetch_files and all(Path(f).exists() for f in last.fetch_files)
    assert len(last.snapshots) == 1 and last.rows == mid.rows

    assert main(["sql", "--json", "--data-dir", data_dir, "SELECT count(*) AS n FROM articles"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["n"] == len(mid.rows["articles"])
    report = build_report(lake, "current", out_dir=tmp_path / "reports", timezone="UTC")
    assert report.markdown_path.exists() and report.markdown.startswith("#")


def test_maintain_on_a_duckdb_file_says_so_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AXISWATCH_WAREHOUSE", raising=False)
    assert main(["warehouse", "maintain", "--data-dir", str(tmp_path / "var")]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "DuckDB file" in out and "nothing to maintain" in out
    assert not (tmp_path / "var" / "axiswatch.duckdb").exists()  # not even created


def test_serve_registers_lake_maintenance_only_on_a_lake(new_warehouse: NewWarehouse) -> None:
    from flows.orchestration.serve import deployments
    from flows.settings import Settings

    lake = new_warehouse("ducklake")
    assert isinstance(lake, Lake)
    on_lake = Settings.load(
        env={},
        warehouse=f"ducklake:postgres:{lake.catalog}",
        warehouse_data_path=lake.data_path,
        lake_maintenance_cron="15 3 * * *",
    )
    made = {d.name: d for d in deployments(on_lake, {})}
    assert set(made) == {"pipeline", "weekly-report", "lake-maintenance"}
    schedule = made["lake-maintenance"].schedules[0].schedule
    assert (schedule.cron, schedule.timezone) == ("15 3 * * *", "Asia/Seoul")
    assert {d.name for d in deployments(Settings.load(env={}), {})} == {"pipeline", "weekly-report"}
