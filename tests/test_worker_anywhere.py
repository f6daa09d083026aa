"""Workers anywhere: `axiswatch deploy` registers deployments by module path, with no storage and
no pull step, so a worker started in another directory runs them from its own installed axiswatch,
even after the checkout that registered them is gone."""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from flows.orchestration import prefect_server
from flows.settings import PROJECT_ROOT
from tests.pool_harness import finished
from tests.serve_harness import BIN, Proc, clean_env
from warehouse.db import reader

POOL = "axiswatch-elsewhere"
PACKAGES = ("flows", "models", "warehouse")


def copy_packages(root: Path) -> Path:
    """The three packages under ``root`` (what an installed axiswatch holds); ``root``."""
    for name in PACKAGES:
        shutil.copytree(PROJECT_ROOT / name, root / name, ignore=shutil.ignore_patterns("__pycache__"))
    return root


def create_run(api: str, deployment_id: str, params: dict[str, object]) -> str:
    """Create a flow run of the deployment (again while the server's SQLite is busy: 503); its id."""
    url = f"{api}/deployments/{deployment_id}/create_flow_run"
    for _ in range(10):
        created = httpx.post(url, json={"parameters": params}, timeout=30)
        if created.status_code != 503:
            break
        time.sleep(2)
    assert created.status_code < 300, created.text
    return str(created.json()["id"])


@pytest.mark.slow
def test_a_worker_started_elsewhere_runs_a_deployment_from_its_installed_package(tmp_path: Path) -> None:
    checkout, installed = copy_packages(tmp_path / "checkout"), copy_packages(tmp_path / "site-packages")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    config = {
        name: shutil.copy(PROJECT_ROOT / "seeds" / f"{name}.toml", tmp_path) for name in ("sources", "topics")
    }
    with prefect_server.local_server(tmp_path / "server-home", timeout=240, out=io.StringIO()) as api:
        env = clean_env(
            tmp_path,
            PREFECT_API_URL=api,
            PREFECT_HOME=str(tmp_path / "prefect-client"),
            PREFECT_WORKER_QUERY_SECONDS="2",
            AXISWATCH_SOURCES_FILE=str(config["sources"]),
            AXISWATCH_TOPICS_FILE=str(config["topics"]),
        )
        deployed = subprocess.run(
            [sys.executable, "-m", "flows.cli", "deploy", "--work-pool", POOL],
            env={**env, "PYTHONPATH": str(checkout)},
            cwd=checkout,
            capture_output=True,
            text=True,
            timeout=240,
            check=False,
        )
        assert deployed.returncode == 0, deployed.stdout + deployed.stderr
        shutil.rmtree(checkout)  # the registering checkout is gone: nothing may point into it
        deployment = httpx.get(f"{api}/deployments/name/pipeline-shard/pipeline-shard", timeout=30).json()
        assert deployment["entrypoint"] == "flows.pipeline.pipeline_shard_flow"
        assert not deployment["pull_steps"] and not deployment["path"], deployment
        worker = Proc(
            [str(BIN / "prefect"), "worker", "start", "--pool", POOL, "--type", "process", "--limit", "1"],
            {**env, "PYTHONPATH": str(installed)},
            cwd=elsewhere,
        )
        try:
            worker.wait_for("started", 120)
            params = {"overrides": {}, "stage": "score", "shard": 0, "shards": 2, "parent_run_id": 7}
            run = finished(api, create_run(api, deployment["id"], params), 240)
        finally:
            worker.stop(timeout=20)
    assert run["state_type"] == "COMPLETED", worker.output[-3000:]
    with reader(Path(env["AXISWATCH_DATA_DIR"]) / "axiswatch.duckdb") as con:
        shard_rows = con.execute("SELECT flow, outcome FROM runs WHERE trigger = 'shard:7'").fetchall()
    assert shard_rows == [("score-shard-1/2", "ok")], shard_rows
