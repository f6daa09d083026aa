"""Helpers for the `axiswatch serve` tests: subprocesses with collected output, a tiny loopback
site, and questions to a Prefect server's REST API."""

from __future__ import annotations

import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import httpx

from flows.tools.loopback import LoopbackServer, respond
from tests.ingest_site import feed_bytes, sources_toml

BIN = Path(sys.executable).parent
SERVED = "being served"


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The test environment without any PREFECT_*/AXISWATCH_* of the caller, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "AXISWATCH_"))}
    env.update({"AXISWATCH_DATA_DIR": str(tmp_path / "var"), "HF_HUB_OFFLINE": "1"}, **extra)
    return env


def serve_env(tmp_path: Path, sources: Path, interval: float | None = 5, **extra: str) -> dict[str, str]:
    """Environment for a serve of ``sources`` on loopback, the pipeline every ``interval`` s."""
    values = {
        "AXISWATCH_SOURCES_FILE": str(sources),
        "AXISWATCH_ALLOW_HOSTS": "127.0.0.1",
        "AXISWATCH_HOST_DELAY_SECONDS": "0",
        "AXISWATCH_POLL_INTERVAL_MINUTES": "0",
        "AXISWATCH_RETRIES": "0",
        "AXISWATCH_READ_TIMEOUT": "30",
        "AXISWATCH_TOTAL_TIMEOUT": "40",
        **({"AXISWATCH_PIPELINE_INTERVAL_SECONDS": str(interval)} if interval else {}),
    }
    return clean_env(tmp_path, **values, **extra)


class Proc:
    """A subprocess (its own process group) whose output is collected line by line."""

    def __init__(self, args: list[str], env: dict[str, str], cwd: Path | None = None) -> None:
        """Start ``args`` with ``env`` (in ``cwd``), stdout and stderr merged."""
        self.popen = subprocess.Popen(
            args,
            env=env,
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.popen.stdout is not None
        for line in self.popen.stdout:
            self.lines.put(line)

    @property
    def output(self) -> str:
        """Everything read so far."""
        while not self.lines.empty():
            self.seen.append(self.lines.get())
        return "".join(self.seen)

    def wait_for(self, pattern: str, timeout: float) -> re.Match[str]:
        """Wait for a line matching ``pattern``; AssertionError with the output otherwise."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.5)
            except queue.Empty:
                if self.popen.poll() is not None:
                    break
                continue
            self.seen.append(line)
            if match := re.search(pattern, line):
                return match
        raise AssertionError(f"{pattern!r} not seen; output:\n{self.output[-4000:]}")

    def stop(self, sig: int = signal.SIGINT, timeout: float = 60) -> float:
        """Send ``sig`` and wait for the exit; return the seconds it took (kill after ``timeout``)."""
        started = time.monotonic()
        if self.popen.poll() is None:
            self.popen.send_signal(sig)
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        return time.monotonic() - started

    def kill(self) -> None:
        """SIGKILL this process (only this one, not its group)."""
        if self.popen.poll() is None:
            self.popen.kill()
        self.popen.wait(timeout=10)


def started_serve(env: dict[str, str], timeout: float = 240) -> tuple[Proc, str, int]:
    """Start `axiswatch serve`; return it, the UI address and the server's pid once served."""
    proc = Proc([str(BIN / "axiswatch"), "serve"], env)
    try:
        pid = int(proc.wait_for(r"Prefect server started in .* \(pid (\d+),", timeout).group(1))
        ui = proc.wait_for(r"Prefect UI: (http://127\.0\.0\.1:\d+)", 10).group(1)
        proc.wait_for(SERVED, timeout)
    except BaseException:
        proc.kill()
        raise
    return proc, ui, pid


def alive(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def group_alive(pgid: int) -> bool:
    """True while any non-zombie process has process group ``pgid``."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


def wait_until(check: Callable[[], Any], timeout: float, what: str, every: float = 1.0) -> Any:
    """Poll ``check`` until it returns something truthy; AssertionError after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"{what}: not within {timeout:.0f} s")


def flow_runs(api: str, deployment: str = "pipeline") -> list[dict[str, Any]]:
    """Every flow run of a deployment on the server at ``api``."""
    deployments = httpx.post(f"{api}/deployments/filter", json={}, timeout=10).json()
    ids = {d["id"] for d in deployments if d["name"] == deployment}
    runs = httpx.post(f"{api}/flow_runs/filter", json={"limit": 200}, timeout=10).json()
    return [r for r in runs if r["deployment_id"] in ids]


def completed(api: str, deployment: str = "pipeline") -> list[dict[str, Any]]:
    """The COMPLETED flow runs of a deployment (empty while none)."""
    return [r for r in flow_runs(api, deployment) if r["state_type"] == "COMPLETED"]


def loopback_site(server: LoopbackServer, tmp_path: Path, delay: float = 0.0) -> Path:
    """One empty feed on ``server`` (answered after ``delay`` s); return the sources file.

    Empty, so a pipeline run polls and records but loads no model: runs stay a few seconds long.
    """
    body = feed_bytes("tiny", [])

    def feed(request: BaseHTTPRequestHandler) -> None:
        server.pause(delay)
        respond(request, 200, body, {"Content-Type": "application/rss+xml"})

    server.handler("/feeds/tiny.xml", feed)
    sources = tmp_path / "sources.toml"
    sources.write_text(sources_toml({"tiny": ("/feeds/tiny.xml", "en")}, server.base_url))
    return sources
