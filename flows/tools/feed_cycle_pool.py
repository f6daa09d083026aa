"""`python -m flows.tools.feed_cycle --work-pool NAME`: the cycle driven as users run it.

Everything the plain mode leaves out is in: a Prefect server on the same throwaway PostgreSQL as
the lake's catalog (flows/orchestration/prefect_server.py), the deployments registered by
``axiswatch deploy --work-pool NAME --shards N``, N ``prefect worker start --pool NAME --type
process --limit 2`` processes (a worker runs the parent ``pipeline`` run and a shard at once, as
docker-compose.yml's workers do), and ``pipeline`` flow runs created through the API and timed to
COMPLETED: one to prime the validators, then, after the new items are served, the measured one.

The deployments' schedules are pushed out of the way (cron on 1 January) so that no scheduled
run fires during the measurement. Per-wave times come from the ``runs`` rows of the parent's
shard runs (first start to last finish: the work, without the shard runs' process start), the
cycle time from the parent's Prefect flow run (created → COMPLETED: everything a user waits).
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from flows.orchestration import prefect_server
from flows.settings import Settings
from flows.tools.cycle_measure import add_new_items, catalog_stats, cycle_figures, delta
from flows.tools.loopback import LoopbackServer
from flows.tools.pgserver import PostgresServer
from warehouse import query
from warehouse.db import Location, reader
from warehouse.lake import Lake

BIN = Path(sys.executable).parent
NEVER = "0 0 1 1 *"  # the deployments' schedules during a measurement: 1 January only
RUN_TIMEOUT_S = 6 * 3600


def pool_env(run: Settings, lake: Lake, api: str, home: Path) -> dict[str, str]:
    """The environment of `axiswatch deploy` and of every worker (one machine, one data dir)."""
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("AXISWATCH_", "PREFECT_"))}
    if keep.get("PYTHONPATH"):  # a flow run's process starts elsewhere: the same modules from there
        keep["PYTHONPATH"] = os.pathsep.join(
            str(Path(p).resolve()) for p in keep["PYTHONPATH"].split(os.pathsep)
        )
    return {
        **keep,
        "AXISWATCH_DATA_DIR": str(run.data_dir),
        "AXISWATCH_SOURCES_FILE": str(run.sources_file),
        "AXISWATCH_WAREHOUSE": f"ducklake:postgres:{lake.catalog}",
        "AXISWATCH_WAREHOUSE_DATA_PATH": lake.data_path,
        "AXISWATCH_ALLOW_HOSTS": "127.0.0.1",
        "AXISWATCH_HOST_DELAY_SECONDS": "0",
        "AXISWATCH_POLL_INTERVAL_MINUTES": "0",
        "AXISWATCH_RETRIES": "0",
        "AXISWATCH_HOST_CONCURRENCY": str(run.host_concurrency),
        "AXISWATCH_FETCH_WORKERS": str(run.fetch_workers),
        "AXISWATCH_EXTRACT_WORKERS": str(run.extract_workers),
        "AXISWATCH_TORCH_THREADS": str(run.torch_threads),
        "AXISWATCH_LOCK_PATIENCE_SECONDS": "600",
        **{f"AXISWATCH_{n}_CRON": NEVER for n in ("PIPELINE", "REPORT", "LAKE_MAINTENANCE")},
        "PREFECT_API_URL": api,
        "PREFECT_HOME": str(home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        "PREFECT_WORKER_QUERY_SECONDS": "2",
        "PREFECT_API_REQUEST_TIMEOUT": "120",
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
    }


@contextlib.contextmanager
def workers(
    env: dict[str, str], pool: str, count: int, logs: Path
) -> Iterator[list[subprocess.Popen[bytes]]]:
    """``count`` `prefect worker start` processes (own process groups, output to ``logs``), stopped
    with SIGTERM (then SIGKILL) on the way out."""
    logs.mkdir(parents=True, exist_ok=True)
    procs: list[subprocess.Popen[bytes]] = []
    try:
        for n in range(count):
            args = [str(BIN / "prefect"), "worker", "start", "--pool", pool, "--type", "process"]
            log = (logs / f"worker-{n}.log").open("wb")
            procs.append(
                subprocess.Popen(
                    [*args, "--limit", "2", "--name", f"cycle-{n}"],
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
        yield procs
    finally:
        for p in procs:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.pid, signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait(timeout=10)


def run_pipeline(api: str, shards: int) -> dict[str, Any]:
    """Create one `pipeline` flow run through the API and wait until it is final; the run."""
    deployment = httpx.get(f"{api}/deployments/name/pipeline/pipeline", timeout=60).json()
    body = {"parameters": {"overrides": {"shards": shards}, "trigger": "manual"}}
    created = httpx.post(f"{api}/deployments/{deployment['id']}/create_flow_run", json=body, timeout=60)
    created.raise_for_status()
    run_id = created.json()["id"]
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while time.monotonic() < deadline:
        run = httpx.get(f"{api}/flow_runs/{run_id}", timeout=60).json()
        if run["state_type"] in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED"):
            if run["state_type"] != "COMPLETED":
                why = (run.get("state") or {}).get("message")
                raise RuntimeError(f"pipeline run {run_id} ended {run['state_type']}: {why}")
            return dict(run)
        time.sleep(1.0)
    raise RuntimeError(f"pipeline run {run_id} not final after {RUN_TIMEOUT_S} s")


def seconds_between(start: str, end: str) -> float:
    """Seconds between two of Prefect's ISO timestamps."""
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()


def waves(lake: Location, prefect_run_id: str) -> dict[str, dict[str, float]]:
    """Per stage of the parent's shard runs: shards and wall seconds (from the runs rows)."""
    with reader(lake) as con:
        rows = query.rows(con, "cycle_waves", {"prefect_run_id": prefect_run_id})
    return {str(stage): {"shards": int(n), "seconds": float(s or 0.0)} for stage, n, s in rows}


def timed_run(api: str, lake: Lake, shards: int) -> dict[str, Any]:
    """One measured pipeline run: created → COMPLETED wall time, Prefect's start/end, the waves."""
    started = time.perf_counter()
    run = run_pipeline(api, shards)
    wall = time.perf_counter() - started
    return {
        "wall_s": wall,
        "prefect_run_s": seconds_between(run["start_time"], run["end_time"]),
        "waves": waves(lake, str(run["id"])),
    }


def run_pool_cycle(
    run: Settings, pg: PostgresServer, server: LoopbackServer, site_feeds: list[Any], lake: Lake, **o: Any
) -> dict[str, Any]:
    """Prime, then measure one cycle through a Prefect server, deployments and workers."""
    pool, count, workdir, share, say = o["pool"], o["workers"], o["workdir"], o["share"], o["say"]
    out: dict[str, Any] = {"work_pool": pool}
    pg.createdb("prefect")
    log = io.StringIO()
    server_home = workdir / "prefect-server"
    with prefect_server.local_server(
        server_home, timeout=300, out=log, database_url=pg.sqlalchemy_url("prefect")
    ) as api:
        env = pool_env(run, lake, api, workdir / "prefect-client")
        deployed = subprocess.run(
            [str(BIN / "axiswatch"), "deploy", "--work-pool", pool, "--shards", str(count)],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if deployed.returncode:
            why = deployed.stderr.strip() or deployed.stdout.strip()
            raise RuntimeError(f"axiswatch deploy failed: {why}")
        with workers(env, pool, count, workdir / "worker-logs"):
            say(f"feed_cycle: priming through work pool {pool!r} ({count} workers, {count} shards)")
            out["prime"] = timed_run(api, lake, count)
            out["changed_feeds"] = add_new_items(server, site_feeds, share)
            say(f"feed_cycle: primed in {out['prime']['wall_s']:.0f} s; {out['changed_feeds']} feeds changed")
            since, before = datetime.now(UTC), catalog_stats(pg)
            out["measured"] = timed_run(api, lake, count)
            out["catalog"] = delta(catalog_stats(pg), before)
            out["cycle"] = cycle_figures(lake, since)
    return out


def render_pool(r: dict[str, Any]) -> str:
    """The work-pool figures as a few lines."""
    m, c, cat, load = r["measured"], r["cycle"], r["catalog"], r["machine"]
    ingest = m["waves"].get("ingest", {}).get("seconds", 0.0)
    score = m["waves"].get("score", {}).get("seconds", 0.0)
    polls_s = c["polls"] / ingest if ingest else 0.0
    return "\n".join(
        [
            f"{r['feeds']:,} feeds, work pool {r['work_pool']!r}: {r['workers']} workers (--limit 2), "
            f"{r['workers']} shards, {r['changed_feeds']} feeds with a new item",
            f"priming pipeline run: {r['prime']['wall_s']:.0f} s created → COMPLETED",
            f"cycle: {m['wall_s']:.0f} s created → COMPLETED (Prefect run {m['prefect_run_s']:.0f} s); "
            f"waves from the runs rows: ingest {ingest:.0f} s, score {score:.0f} s",
            f"  polls {c['polls']:,} ({c['not_modified']:,} not modified, {c['failed']} failed), "
            f"{polls_s:.0f} polls/s over the ingest wave",
            f"  articles stored {c['articles']} ({c['articles'] / ingest if ingest else 0:.2f}/s over the "
            f"ingest wave), scored {c['scored']} ({c['scored'] / score if score else 0:.2f}/s)",
            f"  PostgreSQL over the cycle: catalog {cat['commits']:.0f} transactions, "
            f"{cat['inserted']:.0f} rows inserted, {cat['updated']:.0f} updated; server CPU "
            f"{cat['cpu_s']:.0f} s (catalog and Prefect's database); "
            f"catalog {cat['size_bytes'] / 2**20:.0f} MiB",
            f"  load average at start {load['load_average_start'][0]:.1f}, "
            f"at end {load['load_average_end'][0]:.1f} ({load['cpus']} CPUs)",
        ]
    )
