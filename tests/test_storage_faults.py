"""Storage faults are one line, exit 1, before Prefect starts; a failed commit stops the run (issue 16).

Read-only and full disks are real: a small tmpfs mounted for the test (remounted read-only, or
filled to the last byte). That needs root with CAP_SYS_ADMIN, as on the build machines; elsewhere
those tests are skipped and say why.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from flows.cli.commands import main
from flows.settings import PROJECT_ROOT, Settings
from tests.adhoc_ops import Adhoc
from warehouse import db
from warehouse.db import StorageFault

SOURCES = str(PROJECT_ROOT / "seeds" / "sources.toml")


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Path]:
    """A 24 MiB tmpfs of its own (unmounted afterwards)."""
    mount = tmp_path / "mnt"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", str(mount)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False, timeout=30)


def fill(directory: Path, leave: int = 0) -> Path:
    """Fill the file system of ``directory`` until at most ``leave`` bytes are free."""
    filler = directory / "filler.bin"
    with filler.open("wb") as fh:
        try:
            while shutil.disk_usage(directory).free > leave:
                fh.write(b"\0" * min(1 << 20, max(shutil.disk_usage(directory).free - leave, 4096)))
                fh.flush()
        except OSError:
            pass
    return filler


def one_line(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    """Run the CLI, assert exit 1 with exactly one stderr line, return it."""
    code = main(argv)
    out, err = capsys.readouterr()
    assert code == 1, (argv, out, err)
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


def sample_warehouse(path: Path, rows: int = 100_000) -> Path:
    """A migrated warehouse with a big table, closed."""
    with db.writer(path) as con:
        con.execute(
            "CREATE TABLE filler AS SELECT i, md5(i::VARCHAR) || repeat('x', 200) AS t FROM range(?) t(i)",
            [rows],
        )
    return path


COMMANDS = (["ingest", "--sources", SOURCES], ["run", "--sources", SOURCES], ["score"], ["report"])


def test_non_duckdb_warehouse_is_one_line_before_prefect(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "axiswatch.duckdb").write_text("not a database\n" * 100)
    for command in COMMANDS:
        err = one_line(capsys, [*command, "--data-dir", str(data)])
        assert f"{data / 'axiswatch.duckdb'} is not a DuckDB database" in err
    for command in (["status"], ["sql", "SELECT 1"]):
        assert str(data / "axiswatch.duckdb") in one_line(capsys, [*command, "--data-dir", str(data)])
    assert not (data / "prefect").exists()


def test_truncated_warehouse_is_one_line_and_never_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    path = sample_warehouse(data / "axiswatch.duckdb")
    os.truncate(path, path.stat().st_size // 2)
    size = path.stat().st_size
    for command in COMMANDS:
        err = one_line(capsys, [*command, "--data-dir", str(data)])
        assert f"warehouse {path} is damaged: IO Error: Could not read enough bytes" in err
    assert path.stat().st_size == size and not (data / "prefect").exists()


def test_corrupt_block_found_during_a_write_stops_the_run(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    sample_warehouse(path)
    with path.open("r+b") as fh:  # a block in the middle: the file opens, reading that table fails
        fh.seek(path.stat().st_size // 2)
        fh.write(os.urandom(4096))
    scan_filler = Adhoc(lambda con: con.execute("UPDATE filler SET t = t || 'y' WHERE i % 7 = 0").fetchall())
    sink = Settings.load(env={}, db_path=path, data_dir=tmp_path).sink()
    damaged = rf"warehouse {path} is damaged: IO Error: Corrupt database file"
    with pytest.raises(StorageFault, match=damaged):
        sink.apply([scan_filler])


def test_read_only_data_dir_is_one_line(tmpfs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmpfs / "data"
    data.mkdir()
    subprocess.run(["mount", "-o", "remount,ro", str(tmpfs)], check=True, timeout=30)
    for command in COMMANDS:
        err = one_line(capsys, [*command, "--data-dir", str(data)])
        assert f"data directory {data} is not writable: Read-only file system" in err


def test_full_disk_is_one_line_before_prefect(tmpfs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmpfs / "data"
    data.mkdir()
    fill(tmpfs, leave=1 << 20)
    for command in COMMANDS:
        err = one_line(capsys, [*command, "--data-dir", str(data)])
        assert f"under {data}" in err and ("disk full" in err or "No space left" in err)
    assert not (data / "prefect").exists()


def test_disk_filling_during_writes_stops_the_run_and_loses_nothing(tmpfs: Path) -> None:
    path = tmpfs / "w.duckdb"
    sample_warehouse(path, rows=1_000)
    before = duckdb.connect(str(path), read_only=True).execute("SELECT count(*) FROM filler").fetchone()
    filler = fill(tmpfs, leave=64 << 10)
    grow = Adhoc(
        lambda con: con.execute(
            "INSERT INTO filler SELECT i, repeat(md5(i::VARCHAR), 64) FROM range(100000) t(i)"
        )
    )
    sink = Settings.load(env={}, db_path=path, data_dir=tmpfs).sink()
    with pytest.raises(StorageFault, match=rf"{path}.*(No space left|could not be committed)"):
        sink.apply([grow])
    filler.unlink()  # space freed: the warehouse opens with everything committed before
    con = duckdb.connect(str(path), read_only=True)
    assert con.execute("SELECT count(*) FROM filler").fetchone() == before
    con.close()


def test_flows_turn_known_faults_into_one_failed_line_and_let_bugs_raise(tmp_path: Path) -> None:
    from flows import pipeline
    from flows.orchestration.runlock import RunActive

    settings = Settings.load(env={}, data_dir=tmp_path)
    state = pipeline._known_failure(settings, StorageFault("disk full: 0.5 MiB free under /x"))
    assert state.is_failed() and state.message == "disk full: 0.5 MiB free under /x"
    state = pipeline._known_failure(settings, duckdb.IOException("IO Error: No space left on device"))
    assert (
        state.message
        == f"warehouse {settings.warehouse_path} cannot be used: IO Error: No space left on device"
    )
    assert pipeline._known_failure(settings, RunActive("another run is active")).is_failed()
    with pytest.raises(ValueError, match="a bug"):
        pipeline._known_failure(settings, ValueError("a bug"))


@pytest.fixture
def read_only_dir(tmp_path: Path) -> Iterator[Path]:
    """A real read-only directory: a read-only bind mount of itself (root can still not write it)."""
    target = tmp_path / "ro"
    target.mkdir()
    done = subprocess.run(["mount", "--bind", str(target), str(target)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot bind-mount here: {done.stderr.decode().strip()}")
    try:
        subprocess.run(["mount", "-o", "remount,ro,bind", str(target)], check=True, timeout=30)
        yield target
    finally:
        subprocess.run(["umount", "-l", str(target)], check=False, timeout=30)


def test_read_only_prefect_home_is_one_line_before_prefect(
    read_only_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 27 item 8: a read-only Prefect home used to end in 5,222 lines after a 3-minute timeout."""
    monkeypatch.setenv("PREFECT_HOME", str(read_only_dir))
    data = tmp_path / "data"
    for command in COMMANDS[:2]:
        err = one_line(capsys, [*command, "--data-dir", str(data)])
        assert f"Prefect's home (its database) {read_only_dir} is not writable: Read-only file system" in err


@pytest.mark.parametrize(
    ("name", "what"), [("prefect", "Prefect's home (its database)"), ("spool", "spool directory")]
)
def test_a_file_where_a_run_directory_belongs_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], name: str, what: str
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / name).write_text("in the way\n")
    monkeypatch.setenv("PREFECT_HOME", str(data / "prefect"))  # the default: DATA_DIR/prefect
    for command in COMMANDS[:2]:
        err = one_line(capsys, [*command, "--data-dir", str(data)])
        assert f"{what} {data / name} is a file, not a directory: move it away" in err


def test_prefect_database_filling_up_is_one_line(
    tmpfs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A real 'database or disk is full' from SQLite on a full tmpfs, raised where Prefect would."""
    import sqlite3

    from flows.orchestration import launch

    con = sqlite3.connect(tmpfs / "prefect.db")
    con.execute("CREATE TABLE log (t TEXT)")
    fill(tmpfs)
    with pytest.raises(sqlite3.OperationalError, match="database or disk is full") as full:
        for _ in range(1000):
            con.execute("INSERT INTO log VALUES (?)", ["x" * 65536])
            con.commit()
    con.close()

    def flow(**_: object) -> dict[str, object]:
        raise RuntimeError("could not write the flow run state") from full.value

    monkeypatch.setattr(launch, "preflight", lambda settings: None)  # the disk filled after it
    with pytest.raises(SystemExit) as stop:
        launch.run_flow(Settings.load(env={}, data_dir=tmp_path), lambda: flow)
    message = str(stop.value)
    assert message.startswith("axiswatch: Prefect's database under") and "\n" not in message
    assert "cannot be written: database or disk is full" in message
