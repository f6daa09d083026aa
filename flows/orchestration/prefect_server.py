"""A local Prefect server that `axiswatch serve` starts, supervises and stops.

Prefect's ephemeral API runs no scheduler, so scheduled runs never fire on it. With no
PREFECT_API_URL, ``serve`` starts ``prefect server start`` as a child process:

- on a free loopback port (or ``server_port``), its SQLite database under ``DATA_DIR/prefect``
  or the PostgreSQL database ``prefect_database_url`` names (``postgresql+asyncpg://…``; a
  PREFECT_API_DATABASE_CONNECTION_URL already in the environment is honoured the same way),
  scheduler and the other services on, analytics off, ``DO_NOT_TRACK=1``;
- in its own process group, so stopping it (SIGTERM, then SIGKILL after a grace period) ends
  every process it started;
- with ``PR_SET_PDEATHSIG`` (Linux), so the kernel stops it if serve dies without cleaning up
  (``kill -9``); the pid file ``DATA_DIR/prefect/server.pid`` catches any survivor at the next
  start, and the serve lock (``flock`` on ``DATA_DIR/prefect/serve.lock``) is released by the
  kernel with its holder, so nothing stale blocks the next ``serve``.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx

HEALTH_PATH = "/api/health"
STOP_GRACE_SECONDS = 15.0
PR_SET_PDEATHSIG = 1

# Environment of the server child only (the serve process keeps its own settings).
SERVER_ENV = {
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_SERVER_UI_SHOW_PROMOTIONAL_CONTENT": "false",
    "PREFECT_SERVER_SERVICES_SCHEDULER_ENABLED": "true",
    "PREFECT_SERVER_SERVICES_LATE_RUNS_ENABLED": "true",
    "PREFECT_SERVER_SERVICES_CANCELLATION_CLEANUP_ENABLED": "true",
    # new deployments get their first runs within 5 s (Prefect's recent-deployments loop);
    # the others are topped up every 30 s instead of Prefect's 60
    "PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS": "30",
    "PREFECT_SERVER_LOGGING_LEVEL": "WARNING",
}


class ServerError(RuntimeError):
    """The local Prefect server could not be started or another serve holds it."""


@dataclass
class LocalServer:
    """A running ``prefect server start`` child process."""

    process: subprocess.Popen[bytes]
    port: int
    home: Path
    log_path: Path
    database: str = "SQLite"

    @property
    def api_url(self) -> str:
        """The API address clients use (PREFECT_API_URL)."""
        return f"http://127.0.0.1:{self.port}/api"

    @property
    def ui_url(self) -> str:
        """The Prefect UI address."""
        return f"http://127.0.0.1:{self.port}"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _die_with_parent() -> None:
    """In the child before exec: ask the kernel for SIGTERM when the parent dies (Linux only)."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


def _is_prefect_server(pid: int) -> bool:
    """True when ``pid`` is alive and its command line is a ``prefect server start``."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return b"server" in cmdline and b"start" in cmdline and any(b"prefect" in part for part in cmdline)


def _kill_group(pid: int, grace: float) -> None:
    """SIGTERM the process group led by ``pid``, SIGKILL it after ``grace`` seconds."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and _group_alive(pid):
            time.sleep(0.1)
        if _group_alive(pid):
            os.killpg(pid, signal.SIGKILL)


def _group_alive(pgid: int) -> bool:
    """True while any process of group ``pgid`` exists."""
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pgid, os.WNOHANG)  # reap our own child so it stops counting
    return True


def reap_stale_server(home: Path) -> int | None:
    """Stop a server a killed serve left behind (named by its pid file); return its pid."""
    pid_file = home / "server.pid"
    try:
        pid = int(pid_file.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    pid_file.unlink(missing_ok=True)
    if not _is_prefect_server(pid):
        return None
    _kill_group(pid, STOP_GRACE_SECONDS)
    return pid


def running_api_url(home: Path) -> str | None:
    """The API URL of the server a running `axiswatch serve` supervises for ``home``, if healthy."""
    try:
        pid, port = (int(part) for part in (home / "server.pid").read_text().split()[:2])
    except (OSError, ValueError):
        return None
    if not _is_prefect_server(pid):
        return None
    url = f"http://127.0.0.1:{port}/api"
    with contextlib.suppress(httpx.HTTPError):
        if httpx.get(url + "/health", timeout=2).status_code == 200:
            return url
    return None


@contextlib.contextmanager
def serve_lock(home: Path) -> Iterator[None]:
    """Hold ``serve.lock`` for the block: one serve per data directory (freed by the kernel)."""
    home.mkdir(parents=True, exist_ok=True)
    with open(home / "serve.lock", "a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            holder = lock.read().strip() or "another process"
            raise ServerError(
                f"another `axiswatch serve` (pid {holder}) already serves {home.parent}; stop it first"
            ) from None
        lock.seek(0)
        lock.truncate()
        lock.write(str(os.getpid()))
        lock.flush()
        yield


def server_env(home: Path, database_url: str | None = None) -> dict[str, str]:
    """The server child's environment: ours, SERVER_ENV, its home and its database (if given)."""
    env = {**os.environ, **SERVER_ENV, "PREFECT_HOME": str(home)}
    env.pop("PREFECT_API_URL", None)
    if database_url:
        env["PREFECT_API_DATABASE_CONNECTION_URL"] = database_url
    if env.get("PREFECT_API_DATABASE_CONNECTION_URL", "").startswith("postgresql"):
        # a PostgreSQL restart must cost a request, not the server: reconnect, wait for it
        env.setdefault("PREFECT_SERVER_DATABASE_CONNECTION_TIMEOUT", "30")
        env.setdefault("PREFECT_SERVER_DATABASE_TIMEOUT", "30")
    return env


def database_kind(env: dict[str, str]) -> str:
    """'PostgreSQL' or 'SQLite': what the server child's environment points it at."""
    url = env.get("PREFECT_API_DATABASE_CONNECTION_URL", "")
    return "PostgreSQL" if url.startswith("postgres") else "SQLite"


def start_server(home: Path, port: int = 0, database_url: str | None = None) -> LocalServer:
    """Start ``prefect server start`` on 127.0.0.1, its database under ``home`` or at ``database_url``."""
    reap_stale_server(home)
    port = port or free_port()
    log_path = home / "server.log"
    env = server_env(home, database_url)
    args = [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)]
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            args,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent,  # runs before exec: only a prctl call
        )
    (home / "server.pid").write_text(f"{process.pid} {port}\n")
    return LocalServer(process, port, home, log_path, database_kind(env))


def wait_healthy(server: LocalServer, timeout: float) -> float:
    """Wait until the server's health endpoint answers; return the seconds it took."""
    started = time.monotonic()
    url = server.ui_url + HEALTH_PATH
    while time.monotonic() - started < timeout:
        if server.process.poll() is not None:
            raise ServerError(
                f"the Prefect server exited with code {server.process.returncode}; "
                f"see {server.log_path}:\n{_tail(server.log_path)}"
            )
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=2).status_code == 200:
                return time.monotonic() - started
        time.sleep(0.5)
    raise ServerError(
        f"the Prefect server did not answer {url} within {timeout:.0f} s; see {server.log_path}"
    )


def stop_server(server: LocalServer, grace: float = STOP_GRACE_SECONDS) -> float:
    """Stop the server's whole process group; return the seconds it took."""
    started = time.monotonic()
    _kill_group(server.process.pid, grace)
    with contextlib.suppress(subprocess.TimeoutExpired):
        server.process.wait(timeout=5)
    (server.home / "server.pid").unlink(missing_ok=True)
    return time.monotonic() - started


def _tail(path: Path, lines: int = 15) -> str:
    """The last lines of a log file."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError:
        return ""


def _terminate(signum: int, frame: object) -> None:
    """SIGTERM handler: unwind like Ctrl-C so every ``finally`` runs."""
    raise KeyboardInterrupt(f"signal {signum}")


@contextlib.contextmanager
def local_server(
    home: Path,
    port: int = 0,
    timeout: float = 180.0,
    out: IO[str] = sys.stdout,
    database_url: str | None = None,
) -> Iterator[str]:
    """Run a supervised local Prefect server for the block (one per data directory, stopped
    on the way out, also on SIGTERM); yield its API URL."""
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        with serve_lock(home):
            server = start_server(home, port, database_url)
            try:
                yield _announce(server, timeout, out)
            finally:
                signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second TERM must not cut the cleanup
                took = stop_server(server)
                print(f"Prefect server stopped in {took:.1f} s", file=out, flush=True)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _announce(server: LocalServer, timeout: float, out: IO[str]) -> str:
    """Wait for the server, print where it is; return its API URL."""
    took = wait_healthy(server, timeout)
    print(
        f"Prefect server started in {took:.1f} s (pid {server.process.pid}, {server.database}, "
        f"log {server.log_path})",
        file=out,
    )
    print(f"Prefect UI: {server.ui_url}", file=out, flush=True)
    return server.api_url
