"""A damaged or foreign warehouse is one line at once, never a lock (issue 27, items 2 and 7).

The damaged files come from the corpus tests/hostile/storage/cases.toml (tests/damage.py): bytes
overwritten in the block header right after the file headers, in the data blocks of one table
(found only when a query reads them), a file cut in half, an SQLite file, a short text file.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from flows.cli.commands import main
from flows.settings import PROJECT_ROOT
from tests import damage
from tests.adhoc_ops import Adhoc
from warehouse import errors
from warehouse.base import WarehouseCorrupt
from warehouse.db import connect

CASES = damage.cases()
AT_OPEN = ("block_header_near_start", "truncated_half", "sqlite_database", "short_text_file")
SOURCES = PROJECT_ROOT / "seeds" / "sources.toml"


@pytest.fixture(scope="session")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The undamaged warehouse every case is a copy of (built once, about a second)."""
    return damage.base_warehouse(tmp_path_factory.mktemp("base") / "w.duckdb")


def damaged(base: Path, tmp_path: Path, name: str) -> Path:
    """A data directory whose warehouse is case ``name`` of the corpus."""
    return damage.damage(base, tmp_path / name / "axiswatch.duckdb", CASES[name]).parent


def one_line(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    """Run the CLI: exit 1 within seconds, exactly one stderr line and no traceback; return it."""
    started = time.monotonic()
    code = main(argv)
    out, err = capsys.readouterr()
    assert code == 1 and time.monotonic() - started < 5, (argv, code, err[-500:])
    assert err.count("\n") == 1 and "Traceback" not in err + out and "locked" not in err, err
    return err


@pytest.mark.parametrize("name", AT_OPEN)
def test_damage_found_at_open_is_one_line_for_every_command(
    base: Path, tmp_path: Path, name: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # an extension download would land here
    data = damaged(base, tmp_path, name)
    path = data / "axiswatch.duckdb"
    before = path.read_bytes()
    commands = [
        ["status"],
        ["sql", "SELECT max(length(CAST(COLUMNS(*) AS VARCHAR))) FROM runs"],  # every column
        ["search", "korea"],
        ["run", "--sources", str(SOURCES)],
        ["ingest", "--sources", str(SOURCES)],
    ]
    for command in commands:
        err = one_line(capsys, [*command, "--data-dir", str(data)])
        foreign = CASES[name]["kind"] in ("sqlite", "bytes")
        assert str(path) in err and ("is not a DuckDB database" if foreign else "is damaged") in err
    assert path.read_bytes() == before
    assert not (data / "spool").exists() and not (data / "prefect").exists()
    assert not (tmp_path / "home" / ".duckdb").exists()  # no extension installed or downloaded


def test_sqlite_file_says_what_it_is(base: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = damaged(base, tmp_path, "sqlite_database")
    err = one_line(capsys, ["sql", "SELECT 1", "--db", str(data / "axiswatch.duckdb")])
    assert "(it looks like an SQLite database): point --db at a warehouse or move it away" in err


@pytest.mark.parametrize(
    ("name", "command"),
    [
        ("runs_data_block", ["status"]),
        ("runs_data_block", ["status", "--json"]),
        ("runs_data_block", ["sql", "SELECT max(message) FROM runs"]),
        ("search_index_block", ["search", "korea seoul"]),
    ],
)
def test_damage_mid_file_found_by_a_query_is_one_line(
    base: Path, tmp_path: Path, name: str, command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    data = damaged(base, tmp_path, name)
    path = data / "axiswatch.duckdb"
    before = path.read_bytes()
    err = one_line(capsys, [*command, "--data-dir", str(data)])
    assert f"warehouse {path} is damaged: IO Error: Corrupt database file" in err
    assert "restore it from a backup" in err and path.read_bytes() == before


def test_damage_mid_file_stops_the_sink_at_once_without_spooling(base: Path, tmp_path: Path) -> None:
    from flows.settings import Settings

    data = damaged(base, tmp_path, "sources_data_block")
    sink = Settings.load(env={}, data_dir=data).sink()
    read_sources = Adhoc(lambda con: con.execute("SELECT max(name) FROM sources").fetchall())
    started = time.monotonic()
    with pytest.raises(WarehouseCorrupt, match="is damaged: IO Error: Corrupt database file"):
        sink.apply([read_sources])
    assert time.monotonic() - started < 5 and not sink.pending_spool()


def test_corruption_is_not_a_lock_and_a_lock_names_its_holder(base: Path, tmp_path: Path) -> None:
    corrupt = duckdb.IOException(
        "IO Error: Corrupt database file: checksum mismatch in block at location 12288"
    )
    assert errors.is_corruption(corrupt) and not errors.is_lock_conflict(corrupt)
    path = tmp_path / "held.duckdb"
    path.write_bytes(base.read_bytes())
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb,time; c=duckdb.connect({str(path)!r}); print('held', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        assert errors.posix_lock_owner(path) == holder.pid
        with pytest.raises(duckdb.IOException) as conflict:
            duckdb.connect(str(path), read_only=True)
        assert errors.is_lock_conflict(conflict.value) and not errors.is_corruption(conflict.value)
        assert errors.lock_holder(path, conflict.value) == f"process {holder.pid}"
        assert errors.lock_holder(path, duckdb.IOException('IO Error: Could not set lock on file "x"')) == (
            f"process {holder.pid}"  # no PID in the message: the POSIX lock's owner
        )
        with pytest.raises(Exception, match=f"locked by process {holder.pid}"):
            connect(path, read_only=True, patience=0)
    finally:
        holder.kill()
        holder.wait(timeout=10)


@pytest.mark.slow
def test_run_on_a_warehouse_damaged_mid_file_stops_in_one_line(base: Path, tmp_path: Path) -> None:
    data = damaged(base, tmp_path, "sources_data_block")
    env = {**os.environ, "AXISWATCH_LOCK_PATIENCE_SECONDS": "2", "PYTHONPATH": str(PROJECT_ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "flows.cli", "run", "--sources", str(SOURCES), "--data-dir", str(data)],
        capture_output=True,
        text=True,
        env=env,
        cwd=PROJECT_ROOT,
        timeout=300,
    )
    lines = (done.stdout + done.stderr).strip().splitlines()
    assert done.returncode == 1 and len(lines) == 1, lines[-20:]
    assert lines[0].startswith(
        f"axiswatch: warehouse {data / 'axiswatch.duckdb'} is damaged: IO Error: Corrupt"
    )
    assert not (data / "spool").exists()
    con = duckdb.connect(str(data / "axiswatch.duckdb"), read_only=True)
    assert con.execute("SELECT count(*) FROM runs WHERE outcome IS DISTINCT FROM 'ok'").fetchone() == (1,)
    assert con.execute("SELECT count(*) FROM runs WHERE outcome = 'failed'").fetchone() == (0,)
