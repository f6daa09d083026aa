"""Progress on long work is drawn on a terminal only: through rich on a pty's stderr, never on
stdout, nothing with --quiet and nothing when stderr is a pipe or a log."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from flows.orchestration import progress
from tests.test_report import fresh, seed_report

TIMEOUT = 180


TINY = """
import sys
from flows.orchestration import progress
progress.configure(quiet="--quiet" in sys.argv)
with progress.tracker("tiny work", total=4) as bar:
    for _ in range(4):
        bar.advance()
print("done")
"""


def run_cli(args: list[str], tty: bool, command: list[str] | None = None) -> tuple[int, str, str]:
    """Run `axiswatch ARGS` (or ``command``) with stderr on a pseudo-terminal (or a pipe); exit code,
    stdout, stderr."""
    env = os.environ | {"COLUMNS": "100", "TERM": "xterm-256color"}
    env.pop("AXISWATCH_PROGRESS", None)
    command = command or [sys.executable, "-m", "flows.cli", *args]
    if not tty:
        done = subprocess.run(
            command, capture_output=True, env=env, timeout=TIMEOUT, stdin=subprocess.DEVNULL
        )
        return done.returncode, done.stdout.decode(), done.stderr.decode()
    master, slave = pty.openpty()
    proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave, env=env)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    assert proc.stdout is not None
    out = proc.stdout.read().decode()
    return proc.wait(timeout=TIMEOUT), out, b"".join(chunks).decode(errors="replace")


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The report's seeded warehouse, closed."""
    base = tmp_path_factory.mktemp("progress")
    con = fresh(base / "w.duckdb")
    seed_report(con)
    con.close()
    return base


def report_args(base: Path, *extra: str) -> list[str]:
    """`report` on the seeded warehouse."""
    return [
        "report",
        "--db",
        str(base / "w.duckdb"),
        "--data-dir",
        str(base / "d"),
        "--week",
        "2026-W48",
        *extra,
    ]


def test_a_tracker_draws_on_a_terminal_only() -> None:
    tiny = [sys.executable, "-c", TINY]
    code, out, terminal = run_cli([], tty=True, command=tiny)
    assert code == 0 and out == "done\n" and "tiny work" in terminal and "4/4" in terminal
    code, out, terminal = run_cli([], tty=True, command=[*tiny, "--quiet"])
    assert code == 0 and out == "done\n" and terminal == ""
    code, out, err = run_cli([], tty=False, command=tiny)
    assert code == 0 and out == "done\n" and err == ""


def test_report_shows_progress_on_a_terminal_and_none_with_quiet(warehouse: Path) -> None:
    code, out, terminal = run_cli(report_args(warehouse), tty=True)
    assert code == 0, terminal
    assert "drawing the report of 2026-W48" in terminal and "12/12" in terminal  # rich's bar and count
    assert "drawing the report" not in out and "report 2026-W48:" in out  # stdout stays clean
    code, out, terminal = run_cli(report_args(warehouse, "--quiet"), tty=True)
    assert code == 0 and out == "" and terminal.strip() == "", terminal


def test_tracker_is_silent_off_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    assert not progress.shown()  # pytest captures stderr: not a terminal
    with progress.tracker("work", total=3) as bar:
        bar.advance()
        bar.update(description="more work")
    assert capsys.readouterr() == ("", "")
