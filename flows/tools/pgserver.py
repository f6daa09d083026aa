"""A throwaway PostgreSQL server in a directory: for the scale-out tests and `axiswatch bench`.

Runs Debian's PostgreSQL binaries (``/usr/lib/postgresql/<n>/bin``, or ``pg_config --bindir``)
on a free loopback port with its Unix socket in the same directory. PostgreSQL refuses to run as
root, so as root the server runs as the unprivileged ``nobody`` user (the directory is handed to
it). Trust authentication for the one superuser ``axiswatch``: the server listens on 127.0.0.1
only and lives as long as the test or benchmark that started it.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType

SUPERUSER = "axiswatch"
UNPRIVILEGED = "nobody"


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server binaries on this machine (install Debian's `postgresql`)."""


def bindir() -> Path:
    """The directory of initdb/pg_ctl: newest /usr/lib/postgresql/*/bin, else pg_config's."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parts[-3]))
    if found:
        return found[-1].parent
    if shutil.which("pg_config"):
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, check=False)
        path = Path(out.stdout.strip())
        if (path / "pg_ctl").exists():
            return path
    raise PostgresUnavailable(
        "PostgreSQL server binaries not found (install the Debian package `postgresql`: `make install`"
        " does it as root)"
    )


def free_port() -> int:
    """A loopback TCP port nobody listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PostgresServer:
    """initdb + pg_ctl in ``root``; ``conninfo(db)`` gives the libpq string of a database."""

    def __init__(self, root: Path | None = None, port: int | None = None) -> None:
        """Prepare (not start) a server whose data, socket and log live under ``root`` (as root,
        or when not given: a new directory under /tmp, which ``nobody`` can reach; removed by
        ``stop(remove=True)``)."""
        self.as_root = os.geteuid() == 0
        self.owned = root is None or self.as_root
        if root is None or self.owned:
            root = Path(tempfile.mkdtemp(prefix="axiswatch-pg-", dir="/tmp"))
        self.root = root.resolve()
        self.data = self.root / "data"
        self.port = port or free_port()
        self.bin = bindir()

    def _run(self, *args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """Run a PostgreSQL binary, as ``nobody`` when we are root."""
        cmd = [str(self.bin / args[0]), *args[1:]]
        if self.as_root:
            cmd = ["runuser", "-u", UNPRIVILEGED, "--", *cmd]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
        if check and out.returncode != 0:
            raise RuntimeError(f"{args[0]} failed ({out.returncode}): {(out.stderr or out.stdout).strip()}")
        return out

    def start(self) -> PostgresServer:
        """initdb on first start, then start the server and wait until it accepts connections."""
        self.root.mkdir(parents=True, exist_ok=True)
        if self.as_root:
            shutil.chown(self.root, UNPRIVILEGED)
            self.root.chmod(0o700)
        if not (self.data / "PG_VERSION").exists():
            self._run(
                "initdb",
                "-D",
                str(self.data),
                "-U",
                SUPERUSER,
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
                "--no-sync",
            )
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
        )
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.root / "server.log"),
            "-w",
            "-t",
            "60",
            "start",
        )
        return self

    def stop(self, mode: str = "fast", *, remove: bool = False) -> None:
        """Stop the server (``fast``: roll back open sessions; ``immediate``: like a crash); with
        ``remove``, delete a directory this object made."""
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop", check=False)
        if remove and self.owned:
            shutil.rmtree(self.root, ignore_errors=True)

    def restart(self) -> None:
        """Stop immediately (open sessions are cut) and start again on the same port."""
        self.stop("immediate")
        self.start()

    def createdb(self, name: str) -> str:
        """Create a database (idempotent) and return its conninfo."""
        out = self._run(
            "createdb", "-h", str(self.root), "-p", str(self.port), "-U", SUPERUSER, name, check=False
        )
        if out.returncode != 0 and "already exists" not in out.stderr:
            raise RuntimeError(f"createdb {name} failed: {out.stderr.strip()}")
        return self.conninfo(name)

    def conninfo(self, db: str) -> str:
        """The libpq conninfo of database ``db`` over TCP on loopback."""
        return f"host=127.0.0.1 port={self.port} user={SUPERUSER} dbname={db}"

    def sqlalchemy_url(self, db: str) -> str:
        """The asyncpg URL of ``db`` (what Prefect's PREFECT_API_DATABASE_CONNECTION_URL takes)."""
        return f"postgresql+asyncpg://{SUPERUSER}@127.0.0.1:{self.port}/{db}"

    def __enter__(self) -> PostgresServer:
        """Start on entry."""
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Stop on exit (and remove the directory if this object made it)."""
        self.stop(remove=True)
