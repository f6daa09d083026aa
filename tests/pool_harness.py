"""Helpers for the work-pool tests: a throwaway PostgreSQL, a supervised Prefect server on it,
`axiswatch deploy`, `prefect worker start` processes, and a loopback news site whose feeds
grow between runs and whose pages can be slowed down."""

from __future__ import annotations

import contextlib
import io
import random
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import httpx

from flows.orchestration import prefect_server
from flows.tools.demo_site import article_page
from flows.tools.loopback import LoopbackServer, respond
from flows.tools.pgserver import PostgresServer
from tests.ingest_site import NOW, STORIES, feed_bytes, item, sources_toml
from tests.serve_harness import BIN, Proc, serve_env, wait_until
from warehouse.lake import Lake

POOL = "axiswatch-test"
WORKER_ARGS = ("worker", "start", "--pool", POOL, "--type", "process")
"""`prefect …` of every worker (plus --limit and --name); docker-compose.yml's worker runs the same."""
DEPLOY_ARGS = ("deploy", "--work-pool", POOL, "--shards", "2")
"""`axiswatch …` that registers the deployments; docker-compose.yml's deploy service runs the same."""
WORDS = sorted({w.strip(".,").lower() for story in STORIES.values() for p in story for w in p.split()})


def article_text(seed: str) -> list[str]:
    """Three paragraphs of words shuffled by ``seed``: distinct articles, never near-copies."""
    rng = random.Random(seed)
    return [" ".join(rng.choice(WORDS) for _ in range(60)).capitalize() + "." for _ in range(3)]


@dataclass
class NewsSite:
    """Feeds whose items are added between runs; pages answered after ``page_delay`` seconds."""

    server: LoopbackServer
    tmp_path: Path
    feeds: int
    items: dict[str, list[str]] = field(default_factory=dict)
    page_delay: float = 0.0
    urls: list[str] = field(default_factory=list)

    def start(self) -> Path:
        """Serve every feed (empty at first); return the sources file."""
        for n in range(self.feeds):
            name = f"feed-{n}"
            self.items[name] = []
            self.server.handler(f"/feeds/{name}.xml", self._feed(name))
        sources = self.tmp_path / "sources.toml"
        listed = {f"feed-{n}": (f"/feeds/feed-{n}.xml", "en") for n in range(self.feeds)}
        sources.write_text(sources_toml(listed, self.server.base_url))
        return sources

    def _feed(self, name: str) -> Any:
        """The handler of one feed: its current items."""

        def answer(request: BaseHTTPRequestHandler) -> None:
            body = feed_bytes(name, list(self.items[name]))
            respond(request, 200, body, {"Content-Type": "application/rss+xml"})

        return answer

    def add(self, per_feed: int, tag: str, *, shared: bool = False) -> int:
        """Add ``per_feed`` new articles to every feed; return how many articles were added. With
        ``shared``, one more article is linked from every feed (sources of different shards store
        it at the same time: it must be stored once)."""
        if shared:
            path = f"/{tag}/shared.html"
            page = article_page(f"shared {tag}", article_text(path), "Test Daily", NOW)
            self.server.handler(path, self._page(page))
            for name in self.items:
                self.items[name].append(item(f"{tag}-{name}-shared", self.server.url(path), f"shared {tag}"))
        for name in self.items:
            for j in range(per_feed):
                path = f"/{tag}/{name}/{j}.html"
                page = article_page(f"{name} {tag} {j}", article_text(path), "Test Daily", NOW)
                self.server.handler(path, self._page(page))
                url = self.server.url(path)
                self.urls.append(url)
                self.items[name].append(item(f"{tag}-{name}-{j}", url, f"{name} {tag} {j}"))
        return per_feed * len(self.items) + int(shared)

    def _page(self, body: bytes) -> Any:
        """The handler of one page, answered after the current delay."""

        def answer(request: BaseHTTPRequestHandler) -> None:
            if self.page_delay:
                self.server.pause(self.page_delay)
            respond(request, 200, body, {"Content-Type": "text/html; charset=utf-8"})

        return answer


@dataclass
class Cluster:
    """Everything a work-pool test runs against."""

    api: str
    env: dict[str, str]
    site: NewsSite
    workers: list[Proc]
    pg: PostgresServer
    warehouse: Lake


def worker_env(tmp_path: Path, sources: Path, api: str, lake: Lake) -> dict[str, str]:
    """The environment of `axiswatch deploy` and of every worker: one DuckLake warehouse (catalog
    on the cluster's PostgreSQL) and one data dir (spool, run locks), as docker-compose.yml has."""
    return serve_env(
        tmp_path,
        sources,
        interval=None,
        AXISWATCH_WAREHOUSE=f"ducklake:postgres:{lake.catalog}",
        AXISWATCH_WAREHOUSE_DATA_PATH=lake.data_path,
        PREFECT_API_URL=api,
        PREFECT_HOME=str(tmp_path / "prefect-client"),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        DO_NOT_TRACK="1",
        PREFECT_WORKER_QUERY_SECONDS="2",
        PREFECT_WORKER_HEARTBEAT_SECONDS="5",
        PREFECT_API_REQUEST_TIMEOUT="60",
        AXISWATCH_LOCK_PATIENCE_SECONDS="300",
        AXISWATCH_EXTRACT_WORKERS="1",
        AXISWATCH_FETCH_WORKERS="4",
        AXISWATCH_HOST_CONCURRENCY="8",
        AXISWATCH_TORCH_THREADS="1",
    )


def start_worker(env: dict[str, str], name: str) -> Proc:
    """`prefect worker start` on the test pool, one flow run at a time."""
    proc = Proc([str(BIN / "prefect"), *WORKER_ARGS, "--limit", "1", "--name", name], env)
    proc.wait_for("started", 120)
    return proc


@contextlib.contextmanager
def cluster(tmp_path: Path, feeds: int, workers: int) -> Iterator[Cluster]:
    """PostgreSQL, a supervised Prefect server on it, `axiswatch deploy --shards 2` and workers."""
    with contextlib.ExitStack() as stack:
        pg = stack.enter_context(PostgresServer())
        pg.createdb("prefect")
        lake = Lake(pg.createdb("lake"), str(tmp_path / "lake-data"))
        out = io.StringIO()
        api = stack.enter_context(
            prefect_server.local_server(
                tmp_path / "server-home", timeout=240, out=out, database_url=pg.sqlalchemy_url("prefect")
            )
        )
        site = NewsSite(stack.enter_context(LoopbackServer()), tmp_path, feeds)
        env = worker_env(tmp_path, site.start(), api, lake)
        deployed = subprocess.run(
            [str(BIN / "axiswatch"), *DEPLOY_ARGS],
            env=env,
            capture_output=True,
            text=True,
            timeout=240,
            check=False,
        )
        assert deployed.returncode == 0, deployed.stdout + deployed.stderr
        procs: list[Proc] = []
        stack.callback(lambda: [p.stop(timeout=20) for p in procs])
        starters = [
            threading.Thread(target=lambda n=n: procs.append(start_worker(env, f"w{n}")))
            for n in range(workers)
        ]
        for t in starters:
            t.start()
        for t in starters:
            t.join()
        assert len(procs) == workers, "a worker did not start"
        yield Cluster(api, env, site, procs, pg, lake)


def run_pipeline(api: str) -> str:
    """Start a run of the pipeline deployment through the API; its flow run id."""
    deployment = httpx.get(f"{api}/deployments/name/pipeline/pipeline", timeout=30).json()
    created = httpx.post(
        f"{api}/deployments/{deployment['id']}/create_flow_run",
        json={"parameters": {"overrides": {"shards": 2}, "trigger": "manual"}},
        timeout=30,
    )
    created.raise_for_status()
    return str(created.json()["id"])


def flow_run(api: str, run_id: str) -> dict[str, Any]:
    """One flow run as the API returns it."""
    return dict(httpx.get(f"{api}/flow_runs/{run_id}", timeout=30).json())


def finished(api: str, run_id: str, timeout: float) -> dict[str, Any]:
    """Wait for a flow run to reach a final state; return it."""
    final = ("COMPLETED", "FAILED", "CRASHED", "CANCELLED")
    return dict(
        wait_until(
            lambda: (r := flow_run(api, run_id))["state_type"] in final and r, timeout, "run finished", 2
        )
    )


def shard_runs(api: str) -> list[dict[str, Any]]:
    """Every flow run of the pipeline-shard deployment."""
    deployment = httpx.get(f"{api}/deployments/name/pipeline-shard/pipeline-shard", timeout=30).json()
    body = {"deployments": {"id": {"any_": [deployment["id"]]}}, "limit": 200}
    return list(httpx.post(f"{api}/flow_runs/filter", json=body, timeout=30).json())


def ran_on(workers: list[Proc], run_id: str) -> list[int]:
    """The indexes of the workers that ran the flow run (tried to submit it and were not told
    that another worker had it already)."""
    tried, lost = f"submitting flow run '{run_id}'", f"Aborted submission of flow run '{run_id}'"
    return [n for n, w in enumerate(workers) if tried in w.output and lost not in w.output]


def wait_running_shard(api: str, prefix: str, timeout: float) -> dict[str, Any]:
    """The first shard flow run whose name starts with ``prefix`` that is RUNNING with a pid."""

    def running() -> dict[str, Any] | None:
        for run in shard_runs(api):
            if (
                run["name"].startswith(prefix)
                and run["state_type"] == "RUNNING"
                and run["infrastructure_pid"]
            ):
                return run
        return None

    return dict(wait_until(running, timeout, f"a running {prefix!r}", 0.5))


def elapsed(started: float) -> str:
    """Seconds since ``started``, for messages."""
    return f"{time.monotonic() - started:.0f} s"
