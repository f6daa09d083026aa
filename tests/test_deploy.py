"""Deployments on a work pool (issue 12): PostgreSQL under the Prefect server, `axiswatch deploy`,
three `prefect worker start` processes (one flow run each at a time), a pipeline run fanned out
to two shards that run on two different workers, and a shard's process killed with kill -9 in
the middle of its fetches: it is started again and nothing is stored twice."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from flows.settings import Settings
from tests.pool_harness import (
    Cluster,
    cluster,
    finished,
    ran_on,
    run_pipeline,
    shard_runs,
    wait_running_shard,
)
from tests.serve_harness import BIN, clean_env, wait_until
from tests.stages import run_ingest, run_score
from warehouse.db import Location, reader
from warehouse.lake import forget

FEEDS = 6


@pytest.fixture(scope="module")
def pool(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """One PostgreSQL + Prefect server + deployments + three workers for the module's tests."""
    with cluster(tmp_path_factory.mktemp("pool"), FEEDS, workers=3) as made:
        yield made


def rows(path: Location, sql: str, *params: object) -> list[tuple[object, ...]]:
    """Rows of a query on the warehouse (read-only)."""
    with reader(path) as con:
        return con.execute(sql, list(params)).fetchall()


def parent_row(path: Location, prefect_id: str) -> dict[str, object]:
    """The runs row of the pipeline run with this Prefect flow run id."""
    cols = ["run_id", "outcome", "feeds_polled", "discovered", "extracted", "duplicates", "failed", "scored"]
    found = rows(path, f"SELECT {', '.join(cols)} FROM runs WHERE prefect_run_id = ?", prefect_id)
    assert len(found) == 1, found
    return dict(zip(cols, found[0], strict=True))


def shard_sums(path: Location, parent: object) -> tuple[int, ...]:
    """feeds_polled, discovered, extracted, scored summed over the parent's finished shard rows."""
    sql = (
        "SELECT sum(feeds_polled), sum(discovered), sum(extracted), sum(scored) FROM runs "
        "WHERE trigger = ? AND outcome IN ('ok', 'partial')"
    )
    return tuple(int(v or 0) for v in rows(path, sql, f"shard:{parent}")[0])


def stored_once(path: Location, expected: int) -> None:
    """Every article of the site stored once (a shared page once, its other entries linked to it as
    duplicates), every entry done, every original scored once."""
    (articles, urls, entries, done, stored, scores, originals) = rows(
        path,
        "SELECT (SELECT count(*) FROM articles), (SELECT count(DISTINCT canonical_url) FROM articles),"
        " (SELECT count(*) FROM entries),"
        " (SELECT count(*) FROM entries WHERE state IN ('stored', 'duplicate')),"
        " (SELECT count(*) FROM entries WHERE state = 'stored'),"
        " (SELECT count(*) FROM article_scores), (SELECT count(*) FROM articles WHERE duplicate_of IS NULL)",
    )[0]
    assert (articles, urls) == (expected,) * 2
    assert entries == done and stored >= expected  # a shared page's entries: stored or duplicate
    assert scores == originals == expected


COMPARED = {
    "article keys": "SELECT article_id, canonical_url FROM articles",
    "duplicates": "SELECT article_id, duplicate_of, duplicate_kind FROM articles",
    "entries": "SELECT source_id, guid, article_id FROM entries",
    "scores": "SELECT article_id, model_version, label, score, n_passages FROM article_scores",
    "passage scores": "SELECT article_id, ordinal, label, p_washington FROM passage_scores",
    "group mart": "SELECT group_kind, group_value, week, n_sources, n_articles, n_scored,"
    " mean_score, share_washington, share_beijing FROM mart_weekly_stance_group",
}
SOURCE_MART = "SELECT source_id, week, n_articles, n_scored, mean_score FROM mart_weekly_stance_source"
FLOAT_TOLERANCE = (
    1e-5  # batched float sums differ in the last bits between processes; rounding would split on a boundary
)


def same_rows(lake: list[tuple[Any, ...]], alone: list[tuple[Any, ...]]) -> str | None:
    """None when both hold the same rows, floats equal within FLOAT_TOLERANCE; else what differs."""

    def keyed(found: list[tuple[Any, ...]]) -> dict[tuple[Any, ...], list[float]]:
        """Each row's non-float values → its floats."""
        return {
            tuple(v for v in row if not isinstance(v, float)): [v for v in row if isinstance(v, float)]
            for row in found
        }

    a, b = keyed(lake), keyed(alone)
    if a.keys() != b.keys() or len(a) != len(lake) or len(b) != len(alone):
        return f"only in the lake {a.keys() - b.keys()}, only embedded {b.keys() - a.keys()}"
    far = {
        k: (a[k], b[k])
        for k in a
        if any(abs(x - y) > FLOAT_TOLERANCE for x, y in zip(a[k], b[k], strict=True))
    }
    return f"values differ: {far}" if far else None


SHARED_BY = (  # sources an article linked from several feeds was credited to (whichever stored it first)
    "SELECT DISTINCT a.source_id FROM articles AS a JOIN entries AS e USING (article_id)"
    " GROUP BY a.article_id, a.source_id HAVING count(DISTINCT e.source_id) > 1"
)


def embedded_run(pool: Cluster, data_dir: Path) -> Location:
    """The same corpus in one process on a DuckDB file (no Prefect, no shards); its warehouse."""
    env = {k: v for k, v in pool.env.items() if k.startswith("AXISWATCH_") and "WAREHOUSE" not in k}
    settings = Settings.load(env={**env, "AXISWATCH_DATA_DIR": str(data_dir), "AXISWATCH_SHARDS": "1"})
    run_ingest(settings)
    run_score(settings)
    return settings.location


def prefect_flow_runs_in_postgres(pool: Cluster) -> int:
    """How many flow runs the Prefect server keeps in its PostgreSQL database."""
    psql = [str(pool.pg.bin / "psql"), "-h", "127.0.0.1", "-p", str(pool.pg.port), "-U", "axiswatch"]
    out = subprocess.run(
        [*psql, "-d", "prefect", "-tAc", "SELECT count(*) FROM flow_run"],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(out.stdout)


def test_deploy_needs_a_prefect_server(tmp_path: Location) -> None:
    env = clean_env(tmp_path)
    done = subprocess.run(
        [str(BIN / "axiswatch"), "deploy", "--work-pool", "p"], env=env, capture_output=True, text=True
    )
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "PREFECT_API_URL" in done.stderr
    env["PREFECT_API_URL"] = "http://127.0.0.1:9/api"
    done = subprocess.run(
        [str(BIN / "axiswatch"), "deploy", "--work-pool", "p"], env=env, capture_output=True, text=True
    )
    assert done.returncode == 2 and "does not answer" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.slow
def test_a_pipeline_run_fans_out_to_shards_on_two_workers(pool: Cluster) -> None:
    added = pool.site.add(per_feed=2, tag="r1", shared=True)  # 12 articles + 1 linked from every feed
    entries = 2 * FEEDS + FEEDS
    parent_id = run_pipeline(pool.api)
    parent = finished(pool.api, parent_id, 240)
    assert parent["state_type"] == "COMPLETED", parent["state"]
    shards = shard_runs(pool.api)
    assert sorted(r["name"].split(" of ")[0] for r in shards) == [
        "ingest shard 1/2",
        "ingest shard 2/2",
        "score shard 1/2",
        "score shard 2/2",
    ]
    assert all(r["state_type"] == "COMPLETED" and r["parent_task_run_id"] for r in shards)
    parent_worker = ran_on(pool.workers, parent_id)
    assert len(parent_worker) == 1
    for stage in ("ingest", "score"):
        workers = [ran_on(pool.workers, r["id"]) for r in shards if r["name"].startswith(stage)]
        assert all(len(w) == 1 for w in workers), workers
        assert len({w[0] for w in workers}) == 2 and parent_worker[0] not in {w[0] for w in workers}
    row = parent_row(pool.warehouse, parent_id)
    assert row["outcome"] == "ok" and row["feeds_polled"] == FEEDS
    assert (row["discovered"], row["extracted"], row["scored"]) == (entries, added, added)
    assert shard_sums(pool.warehouse, row["run_id"]) == (FEEDS, entries, added, added)
    stored_once(pool.warehouse, added)
    assert prefect_flow_runs_in_postgres(pool) >= 5  # the server keeps its state in PostgreSQL


@pytest.mark.slow
def test_the_lake_holds_what_one_embedded_process_stores(pool: Cluster, tmp_path: Path) -> None:
    if not rows(pool.warehouse, "SELECT count(*) FROM articles")[0][0]:
        test_a_pipeline_run_fans_out_to_shards_on_two_workers(pool)
    embedded = embedded_run(pool, tmp_path / "embedded")
    for what, sql in COMPARED.items():
        differs = same_rows(rows(pool.warehouse, sql), rows(embedded, sql))
        assert differs is None, f"{what}: {differs}"
    credited = {r[0] for r in rows(pool.warehouse, SHARED_BY)} | {r[0] for r in rows(embedded, SHARED_BY)}
    lake, alone = (
        [r for r in rows(w, SOURCE_MART) if r[0] not in credited] for w in (pool.warehouse, embedded)
    )
    assert same_rows(lake, alone) is None and len(lake) >= FEEDS - 2, (lake, alone)


@pytest.mark.slow
def test_a_shard_killed_with_kill_9_is_run_again_and_nothing_is_stored_twice(pool: Cluster) -> None:
    before = rows(pool.warehouse, "SELECT count(*) FROM articles")[0][0]
    assert isinstance(before, int)
    added = pool.site.add(per_feed=2, tag="r2")
    pool.site.page_delay = 20.0  # the shards sit in their page fetches
    parent_id = run_pipeline(pool.api)
    started = time.monotonic()
    victim = wait_running_shard(pool.api, "ingest shard", 180)
    mine = set(victim["parameters"]["source_ids"])
    assert mine, victim["parameters"]
    wait_until(
        lambda: any(
            r.path.startswith("/r2/") and r.path.split("/")[2] in mine for r in pool.site.server.requests
        ),
        60,
        "the shard fetching its pages",
        0.2,
    )
    os.kill(int(victim["infrastructure_pid"]), signal.SIGKILL)
    pool.site.page_delay = 0.0
    parent = finished(pool.api, parent_id, 300)
    assert parent["state_type"] == "COMPLETED", parent["state"]
    runs = {
        r["id"]: r
        for r in shard_runs(pool.api)
        if f"of run {parent_row(pool.warehouse, parent_id)['run_id']}" in r["name"]
    }
    assert runs[victim["id"]]["state_type"] == "CRASHED"
    again = [r for r in runs.values() if r["name"] == victim["name"] and r["id"] != victim["id"]]
    assert [r["state_type"] for r in again] == ["COMPLETED"], runs
    row = parent_row(pool.warehouse, parent_id)
    assert row["outcome"] == "ok" and row["scored"] == added
    killed = rows(pool.warehouse, "SELECT outcome FROM runs WHERE prefect_run_id = ?", victim["id"])
    assert killed == [("interrupted",)]  # closed by the shard's next attempt
    stored_once(pool.warehouse, before + added)
    assert time.monotonic() - started < 300


@pytest.mark.slow
def test_a_postgres_restart_mid_run_costs_at_most_that_run(pool: Cluster) -> None:
    before = rows(pool.warehouse, "SELECT count(*) FROM articles")[0][0]
    assert isinstance(before, int)
    added = pool.site.add(per_feed=1, tag="r3")
    pool.site.page_delay = 10.0
    first = run_pipeline(pool.api)
    wait_running_shard(pool.api, "ingest shard", 180)
    pool.pg.restart()  # immediate stop: every open session is cut
    pool.site.page_delay = 0.0
    wait_until(lambda: _healthy(pool.api), 60, "the Prefect server answering again")
    first_state = finished(pool.api, first, 300)["state_type"]  # completed, or lost: either is fine
    second = run_pipeline(pool.api)
    assert finished(pool.api, second, 300)["state_type"] == "COMPLETED", first_state
    assert parent_row(pool.warehouse, second)["outcome"] == "ok"
    stored_once(pool.warehouse, before + added)


def _healthy(api: str) -> bool:
    """True when the server answers a query that needs its database."""
    try:
        return httpx.post(f"{api}/flow_runs/count", json={}, timeout=10).status_code == 200
    except httpx.HTTPError:
        return False


def inlined_rows(path: Location) -> int:
    """Row versions the lake's catalog holds as inlined data (DuckLake's metadata tables)."""
    meta = "__ducklake_metadata_lake"
    names = rows(path, f"SELECT table_name FROM {meta}.ducklake_inlined_data_tables")
    return sum(int(str(rows(path, f'SELECT count(*) FROM {meta}."{n}"')[0][0])) for (n,) in names)


@pytest.mark.slow
def test_lake_maintenance_is_deployed_on_its_cron_and_runs_on_a_worker(pool: Cluster) -> None:
    api = pool.api
    deployment = httpx.get(f"{api}/deployments/name/lake-maintenance/lake-maintenance", timeout=30).json()
    schedules = [
        (s["schedule"]["cron"], s["schedule"]["timezone"], s["active"]) for s in deployment["schedules"]
    ]
    assert schedules == [("45 4 * * *", "Asia/Seoul", True)]
    tables = ("articles", "entries", "feed_fetches", "article_scores", "sources")
    before = {t: rows(pool.warehouse, f"SELECT count(*) FROM {t}") for t in tables}
    assert inlined_rows(pool.warehouse) > 0  # the runs so far left rows in the catalog
    created = httpx.post(f"{api}/deployments/{deployment['id']}/create_flow_run", json={}, timeout=30)
    created.raise_for_status()
    run_id = str(created.json()["id"])
    assert finished(api, run_id, 240)["state_type"] == "COMPLETED"
    assert len(ran_on(pool.workers, run_id)) == 1
    # this process's instance was attached before the flush and may still look for the catalog's
    # dropped inlined tables (one failed read, after which it re-attaches): attach afresh
    forget(pool.warehouse)
    assert inlined_rows(pool.warehouse) == 0  # every table's inlined rows flushed into Parquet files
    assert {t: rows(pool.warehouse, f"SELECT count(*) FROM {t}") for t in tables} == before
