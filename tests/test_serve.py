"""`axiswatch serve`: deployments and schedules registered, one pipeline at a time, schedules
left active when serve stops; against the ephemeral API and against a Prefect server."""

from __future__ import annotations

import json
import os
import queue
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

BIN = Path(sys.executable).parent
READY = "being served"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "AXISWATCH_"))}
    env.update({"AXISWATCH_DATA_DIR": str(tmp_path / "var"), "HF_HUB_OFFLINE": "1"}, **extra)
    return env


class Proc:
    """A subprocess whose output is collected line by line in the background."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.popen = subprocess.Popen(
            args, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.popen.stdout is not None
        for line in self.popen.stdout:
            self.lines.put(line)

    def wait_for(self, text: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.5)
            except queue.Empty:
                if self.popen.poll() is not None:
                    break
                continue
            self.seen.append(line)
            if text in line:
                return
        raise AssertionError(f"{text!r} not seen; output:\n{''.join(self.seen)[-3000:]}")

    def stop(self) -> int:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGINT)
            try:
                return self.popen.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.popen.kill()
        return self.popen.wait(timeout=10)


def check_deployments(deployments: list[dict[str, Any]]) -> None:
    """Both deployments, their crons in Asia/Seoul, active schedules, one pipeline at a time."""
    by_name = {d["name"]: d for d in deployments}
    assert set(by_name) == {"pipeline", "weekly-report"}
    crons = {
        name: [(s["cron"], s["timezone"], s["active"]) for s in d["schedules"]] for name, d in by_name.items()
    }
    assert crons["pipeline"] == [("*/30 * * * *", "Asia/Seoul", True)]
    assert crons["weekly-report"] == [("0 7 * * 1", "Asia/Seoul", True)]
    assert not by_name["pipeline"]["paused"]
    assert by_name["pipeline"]["limit"] == 1 and by_name["pipeline"]["strategy"] == "CANCEL_NEW"


def deployments_from_sqlite(db: Path) -> list[dict[str, Any]]:
    con = sqlite3.connect(db)
    out = []
    for dep_id, name, paused, options, limit_id in con.execute(
        "SELECT id, name, paused, concurrency_options, concurrency_limit_id FROM deployment"
    ):
        limit = con.execute('SELECT "limit" FROM concurrency_limit_v2 WHERE id = ?', (limit_id,)).fetchone()
        schedules = [
            {**json.loads(sched), "active": bool(active)}
            for sched, active in con.execute(
                "SELECT schedule, active FROM deployment_schedule WHERE deployment_id = ?", (dep_id,)
            )
        ]
        strategy = json.loads(options or "{}").get("collision_strategy")
        out.append(
            {
                "name": name,
                "paused": bool(paused),
                "schedules": schedules,
                "limit": limit[0] if limit else None,
                "strategy": strategy,
            }
        )
    return out


@pytest.mark.slow
def test_serve_on_the_ephemeral_api(tmp_path: Path) -> None:
    proc = Proc([str(BIN / "axiswatch"), "serve"], clean_env(tmp_path))
    try:
        proc.wait_for(READY, timeout=240)
    finally:
        proc.stop()
    check_deployments(deployments_from_sqlite(tmp_path / "var" / "prefect" / "prefect.db"))


@pytest.fixture
def prefect_server(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    env = clean_env(
        tmp_path,
        PREFECT_HOME=str(tmp_path / "server-home"),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_UI_ENABLED="false",
    )
    server = Proc([str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)], env)
    url = f"http://127.0.0.1:{port}/api"
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(1)
        else:
            raise AssertionError("prefect server did not start")
        yield url
    finally:
        server.stop()


def deployments_from_api(url: str) -> list[dict[str, Any]]:
    out = []
    for d in httpx.post(f"{url}/deployments/filter", json={}, timeout=10).json():
        schedules = [{**s["schedule"], "active": s["active"]} for s in d["schedules"]]
        limit = (d.get("global_concurrency_limit") or {}).get("limit")
        strategy = (d.get("concurrency_options") or {}).get("collision_strategy")
        out.append(
            {
                "name": d["name"],
                "paused": d["paused"],
                "schedules": schedules,
                "limit": limit,
                "strategy": strategy,
            }
        )
    return out


@pytest.mark.slow
def test_serve_against_a_prefect_server(tmp_path: Path, prefect_server: str) -> None:
    proc = Proc([str(BIN / "axiswatch"), "serve"], clean_env(tmp_path, PREFECT_API_URL=prefect_server))
    try:
        proc.wait_for(READY, timeout=180)
        check_deployments(deployments_from_api(prefect_server))
    finally:
        proc.stop()
    check_deployments(deployments_from_api(prefect_server))  # stopping serve paused nothing
