"""`axiswatch serve`: scheduled runs really fire, on the local Prefect server serve supervises and
on a separately started one; one pipeline run at a time; a stop on SIGTERM or SIGINT within 30 s
leaves no process behind; a serve killed with kill -9 does not block the next one."""

from __future__ import annotations

import itertools
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from flows.orchestration import prefect_server
from flows.tools.loopback import LoopbackServer
from tests.serve_harness import (
    BIN,
    SERVED,
    Proc,
    alive,
    clean_env,
    completed,
    flow_runs,
    free_port,
    group_alive,
    loopback_site,
    serve_env,
    started_serve,
    wait_until,
)
from warehouse.db import reader

STOP_LIMIT = 30.0  # seconds serve may take to stop, server included


def deployments_from_api(api: str) -> dict[str, dict[str, Any]]:
    """Deployments by name: schedules, paused, concurrency limit and collision strategy."""
    out = {}
    for d in httpx.post(f"{api}/deployments/filter", json={}, timeout=10).json():
        out[d["name"]] = {
            "schedules": [{**s["schedule"], "active": s["active"]} for s in d["schedules"]],
            "paused": d["paused"],
            "limit": (d.get("global_concurrency_limit") or {}).get("limit"),
            "strategy": (d.get("concurrency_options") or {}).get("collision_strategy"),
        }
    return out


def check_deployments(api: str, interval: float | None = None) -> None:
    """Both deployments, active schedules in Asia/Seoul, one pipeline run at a time."""
    by_name = deployments_from_api(api)
    assert set(by_name) == {"pipeline", "weekly-report"}
    pipeline = by_name["pipeline"]["schedules"]
    if interval is None:
        assert [(s["cron"], s["timezone"], s["active"]) for s in pipeline] == [
            ("*/30 * * * *", "Asia/Seoul", True)
        ]
    else:
        assert [(s["interval"], s["active"]) for s in pipeline] == [(interval, True)]
    report = by_name["weekly-report"]["schedules"]
    assert [(s["cron"], s["timezone"], s["active"]) for s in report] == [("0 7 * * 1", "Asia/Seoul", True)]
    assert not by_name["pipeline"]["paused"]
    assert by_name["pipeline"]["limit"] == 1 and by_name["pipeline"]["strategy"] == "CANCEL_NEW"


def warehouse_runs(tmp_path: Path) -> dict[str, tuple[str, str]]:
    """(trigger, outcome) of every `runs` row by its Prefect flow run id."""
    with reader(tmp_path / "var" / "axiswatch.duckdb") as con:
        rows = con.execute("SELECT prefect_run_id, trigger, outcome FROM runs").fetchall()
    return {str(r[0]): (r[1], r[2]) for r in rows}


def _when(text: str | None) -> datetime:
    """A Prefect timestamp (a run still going ends at the far future)."""
    return datetime.fromisoformat(text) if text else datetime.fromisoformat("9999-01-01T00:00:00+00:00")


def assert_one_at_a_time(runs: list[dict[str, Any]]) -> None:
    """No two runs that really ran overlap; overlapping schedule slots were cancelled, not queued."""
    ran = [r for r in runs if r["state_type"] in ("COMPLETED", "FAILED", "RUNNING")]
    spans = sorted((_when(r["start_time"]), _when(r["end_time"])) for r in ran)
    for (_, end), (start, _) in itertools.pairwise(spans):
        assert end <= start, f"two pipeline runs overlapped: {spans}"
    cancelled = [r for r in runs if r["state_type"] == "CANCELLED"]
    assert cancelled, "no scheduled run was due while another ran"
    assert all("concurrency limit" in (r["state"]["message"] or "") for r in cancelled)


@pytest.mark.slow
def test_scheduled_runs_fire_on_the_supervised_server_one_at_a_time(tmp_path: Path) -> None:
    with LoopbackServer() as site:
        sources = loopback_site(site, tmp_path, delay=8.0)  # each run lasts > 8 s; one is due every 4 s
        proc, ui, server_pid = started_serve(serve_env(tmp_path, sources, interval=4))
        api = f"{ui}/api"
        try:
            assert httpx.get(ui, timeout=10).status_code == 200  # the UI is served too
            check_deployments(api, interval=4.0)
            # `axiswatch run` on the same data finds this server instead of opening Prefect's database
            assert prefect_server.running_api_url(tmp_path / "var" / "prefect") == api
            wait_until(lambda: len(completed(api)) >= 2, 180, "two completed scheduled pipeline runs")
            runs = flow_runs(api)
        finally:
            took = proc.stop(signal.SIGTERM)
    assert proc.popen.returncode == 0 and took < STOP_LIMIT, proc.output
    assert "Prefect server stopped" in proc.output
    assert not group_alive(server_pid) and not alive(server_pid)
    assert not (tmp_path / "var" / "prefect" / "server.pid").exists()
    assert_one_at_a_time(runs)
    rows = warehouse_runs(tmp_path)
    for run in [r for r in runs if r["state_type"] == "COMPLETED"]:
        assert rows[run["id"]] == ("schedule", "ok")
    assert "usage data" not in proc.output.lower() and "Traceback" not in proc.output


@pytest.fixture
def external_server(tmp_path: Path) -> Iterator[str]:
    """A `prefect server start` on loopback that the test starts itself; its API URL."""
    port = free_port()
    env = clean_env(
        tmp_path,
        PREFECT_HOME=str(tmp_path / "server-home"),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_UI_ENABLED="false",
        DO_NOT_TRACK="1",
    )
    server = Proc([str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)], env)
    url = f"http://127.0.0.1:{port}/api"
    try:
        wait_until(lambda: _healthy(url), 180, "prefect server health")
        yield url
    finally:
        server.stop(signal.SIGTERM)


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.mark.slow
def test_scheduled_run_fires_against_a_separately_started_server(
    tmp_path: Path, external_server: str
) -> None:
    with LoopbackServer() as site:
        sources = loopback_site(site, tmp_path)
        env = serve_env(tmp_path, sources, interval=5, PREFECT_API_URL=external_server)
        proc = Proc([str(BIN / "axiswatch"), "serve"], env)
        try:
            proc.wait_for(f"using the Prefect server at {external_server}", 60)
            proc.wait_for(SERVED, 180)
            check_deployments(external_server, interval=5.0)
            done = wait_until(lambda: completed(external_server), 120, "a completed scheduled run")
        finally:
            took = proc.stop(signal.SIGINT)
    assert proc.popen.returncode == 0 and took < STOP_LIMIT, proc.output
    assert "Prefect server started" not in proc.output  # it started no server of its own
    assert not (tmp_path / "var" / "prefect" / "server.pid").exists()
    assert warehouse_runs(tmp_path)[done[0]["id"]] == ("schedule", "ok")
    check_deployments(external_server, interval=5.0)  # stopping serve paused nothing


@pytest.mark.slow
def test_a_serve_killed_with_kill_9_does_not_block_the_next(tmp_path: Path) -> None:
    with LoopbackServer() as site:
        sources = loopback_site(site, tmp_path)
        first, first_ui, first_server = started_serve(serve_env(tmp_path, sources, interval=None))
        check_deployments(f"{first_ui}/api")  # the default crons
        first.kill()  # SIGKILL: no cleanup runs in serve
        wait_until(lambda: not alive(first_server), 30, "the orphaned server ends with its parent")
        second, ui, server_pid = started_serve(serve_env(tmp_path, sources, interval=5))
        try:
            done = wait_until(lambda: completed(f"{ui}/api"), 120, "a completed scheduled run")
        finally:
            took = second.stop(signal.SIGINT)
    assert second.popen.returncode == 0 and took < STOP_LIMIT, second.output
    assert not group_alive(server_pid) and not group_alive(first_server)
    assert warehouse_runs(tmp_path)[done[0]["id"]] == ("schedule", "ok")


def test_a_stale_server_named_by_the_pid_file_is_stopped_and_nothing_else(tmp_path: Path) -> None:
    home = tmp_path / "prefect"
    home.mkdir()
    code = "import time; time.sleep(120)"
    fake = [sys.executable, "-c", code, "prefect", "server", "start"]
    stale = subprocess.Popen(fake, start_new_session=True)
    other = subprocess.Popen([sys.executable, "-c", code, "something", "else"], start_new_session=True)
    try:
        (home / "server.pid").write_text(f"{other.pid} 4200\n")
        assert prefect_server.reap_stale_server(home) is None  # not a Prefect server: left alone
        assert other.poll() is None and not (home / "server.pid").exists()
        (home / "server.pid").write_text(f"{stale.pid} 4200\n")
        started = time.monotonic()
        assert prefect_server.reap_stale_server(home) == stale.pid
        assert not alive(stale.pid) and time.monotonic() - started < 5
    finally:
        for p in (stale, other):
            p.kill()
            p.wait(timeout=5)


def test_one_serve_per_data_directory(tmp_path: Path) -> None:
    with (
        prefect_server.serve_lock(tmp_path / "prefect"),
        pytest.raises(prefect_server.ServerError, match="another `axiswatch serve`"),
        prefect_server.serve_lock(tmp_path / "prefect"),
    ):
        pass
    with prefect_server.serve_lock(tmp_path / "prefect"):  # released with its holder
        pass
