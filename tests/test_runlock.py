"""Two runs on one data directory: the second exits at once naming the first (issue 16)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from flows.cli.commands import main
from flows.orchestration.runlock import RunActive, exclusive_run
from flows.settings import PROJECT_ROOT

HOLDER = """
import sys, time
from pathlib import Path
from flows.orchestration.runlock import exclusive_run
with exclusive_run(Path(sys.argv[1]), "axiswatch run"):
    print("held", flush=True)
    time.sleep(120)
"""


def hold(data_dir: Path) -> subprocess.Popen[str]:
    """Start a process that takes the run lock exactly as `axiswatch run` does, and wait until it has it."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(data_dir)], cwd=PROJECT_ROOT, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def test_second_run_exits_at_once_naming_the_active_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    holder = hold(data)
    try:
        for command in ("ingest", "run"):
            started = time.monotonic()
            code = main([command, "--data-dir", str(data), "--quiet"])
            _, err = capsys.readouterr()
            assert code == 1 and time.monotonic() - started < 5  # before Prefect starts
            assert err.count("\n") == 1 and f"pid {holder.pid}: axiswatch run, since" in err
            assert str(data / "run.lock") in err
        assert not (data / "prefect").exists() and not (data / "axiswatch.duckdb").exists()
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=10)
    with exclusive_run(data, "test"):  # the kernel released the lock of the killed holder
        assert "test" in (data / "run.lock").read_text()


def test_reentrant_in_one_process_and_exclusive_across(tmp_path: Path) -> None:
    with exclusive_run(tmp_path, "outer"), exclusive_run(tmp_path, "inner"):
        probe = subprocess.run(
            [sys.executable, "-c", HOLDER, str(tmp_path)],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert probe.returncode != 0 and "another run is active" in probe.stderr
    holder = hold(tmp_path)
    try:
        with pytest.raises(RunActive, match=f"pid {holder.pid}"), exclusive_run(tmp_path, "second"):
            pass
    finally:
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(timeout=10)


def test_two_real_runs_on_one_warehouse_with_different_data_dirs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 27: a second `run` on the same --db with another --data-dir used to run in parallel."""
    db = tmp_path / "shared" / "w.duckdb"
    sources = PROJECT_ROOT / "seeds" / "sources.toml"
    argv = ["run", "--db", str(db), "--data-dir", str(tmp_path / "a"), "--sources", str(sources)]
    first = subprocess.Popen(
        [sys.executable, "-m", "flows.cli", *argv, "--quiet"],
        cwd=PROJECT_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
    )
    lock = tmp_path / "shared" / "w.duckdb.run.lock"
    try:
        deadline = time.monotonic() + 60
        while not (lock.exists() and lock.read_text().startswith(f"pid {first.pid}")):
            assert first.poll() is None and time.monotonic() < deadline, "the first run never took its lock"
            time.sleep(0.1)
        started = time.monotonic()
        code = main(["run", "--db", str(db), "--data-dir", str(tmp_path / "b"), "--sources", str(sources)])
        _, err = capsys.readouterr()
        assert code == 1 and time.monotonic() - started < 5 and err.count("\n") == 1, err
        assert f"another run is active on warehouse {db}: pid {first.pid}: axiswatch run, since" in err
        assert f"(lock {lock})" in err and not (tmp_path / "b" / "prefect").exists()
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    with exclusive_run(tmp_path / "b", "test", warehouse=db):  # free again once the first run is gone
        assert "test" in lock.read_text()
