"""Warehouse plumbing: numbered migrations in a ledger, atomic application, lock waiting."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from tests.conftest import BACKENDS
from warehouse import db, migrate

NewWarehouse = Callable[[str], db.Location]

TABLES = {
    "sources",
    "feed_fetches",
    "entries",
    "documents",
    "articles",
    "passages",
    "model_versions",
    "passage_scores",
    "article_scores",
    "runs",
    "schema_migrations",
}


def tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}


@pytest.mark.parametrize("backend", BACKENDS)
def test_migrate_creates_contract_tables_once(backend: str, new_warehouse: NewWarehouse) -> None:
    con = db.connect(new_warehouse(backend), fresh=True)
    applied = db.migrate(con)
    assert applied == [v for v, _, _ in db.migration_files()]
    assert tables(con) >= TABLES
    assert db.migrate(con) == []
    ledger = con.execute("SELECT version, name FROM schema_migrations ORDER BY version").fetchall()
    assert ledger[0] == (1, "init")


@pytest.mark.parametrize("backend", BACKENDS)
def test_failed_migration_rolls_back_and_is_not_recorded(
    backend: str, new_warehouse: NewWarehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mig = tmp_path / "migrations"
    shutil.copytree(db.MIGRATIONS_DIR, mig)
    (mig / "999_broken.sql").write_text("CREATE TABLE half_done (x INTEGER);\nSELECT * FROM no_such_table;\n")
    monkeypatch.setattr(migrate, "MIGRATIONS_DIR", mig)
    con = db.connect(new_warehouse(backend), fresh=True)
    with pytest.raises(duckdb.CatalogException):
        db.migrate(con)
    assert "half_done" not in tables(con)
    assert "articles" in tables(con)  # earlier migrations stay applied
    assert con.execute("SELECT count(*) FROM schema_migrations WHERE version = 999").fetchone() == (0,)


def test_migration_names_are_checked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "1_bad.sql").write_text("SELECT 1;")
    monkeypatch.setattr(migrate, "MIGRATIONS_DIR", tmp_path)
    with pytest.raises(db.WarehouseError, match=r"NNN_name\.sql"):
        db.migration_files()


def test_insert_rows_goes_through_arrow_in_one_statement(tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute("CREATE TABLE t (k INTEGER PRIMARY KEY, v VARCHAR)")
    assert db.insert_rows(con, "t", [{"k": i, "v": f"v{i}"} for i in range(500)]) == 500
    assert db.insert_rows(con, "t", [{"k": 1, "v": "dup"}], skip_existing=("k",)) == 1
    assert con.execute("SELECT count(*), max(v) FROM t WHERE k = 1").fetchone() == (1, "v1")
    with pytest.raises(db.WarehouseError):
        db.insert_rows(con, "t; DROP TABLE t", [{"k": 9}])


def test_readonly_open_of_missing_warehouse_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(db.WarehouseError, match="no warehouse at"):
        db.connect(tmp_path / "absent.duckdb", read_only=True)


HOLD = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1])
print("holding", flush=True)
time.sleep(float(sys.argv[2]))
"""


def test_writer_waits_for_a_lock_and_names_the_holder(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    duckdb.connect(str(path)).close()
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(path), "30"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        started = time.monotonic()
        with pytest.raises(db.WarehouseLocked) as err:
            db.connect(path, patience=0.6)
        assert time.monotonic() - started >= 0.5
        assert f"process {holder.pid}" in str(err.value)
    finally:
        holder.kill()
        holder.wait()
    db.connect(path, patience=5).close()  # free again once the holder is gone


@pytest.mark.parametrize("backend", BACKENDS)
def test_old_warehouse_is_migrated_without_losing_rows(
    backend: str, new_warehouse: NewWarehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    only_first = tmp_path / "old-migrations"
    only_first.mkdir()
    shutil.copy(db.MIGRATIONS_DIR / "001_init.sql", only_first)
    monkeypatch.setattr(migrate, "MIGRATIONS_DIR", only_first)
    monkeypatch.setattr(migrate, "VIEWS_DIR", tmp_path / "old-views")  # yesterday's views are not today's
    path = new_warehouse(backend)
    con = db.connect(path, fresh=True)
    assert db.migrate(con) == [1]
    con.execute("INSERT INTO runs (run_id, flow, started_at) VALUES (7, 'ingest', now())")
    con.close()
    monkeypatch.undo()
    db._migrated.clear()
    with db.writer(path) as con:  # today's code opens yesterday's warehouse
        versions = [v for (v,) in con.execute("SELECT version FROM schema_migrations ORDER BY 1").fetchall()]
        assert versions == [v for v, _, _ in db.migration_files()] and versions[0] == 1 and len(versions) > 1
        assert con.execute("SELECT run_id, flow FROM runs").fetchall() == [(7, "ingest")]
        assert "spool_ledger" in tables(con)


@pytest.mark.parametrize("backend", BACKENDS)
def test_migration_changed_after_it_was_applied_is_a_one_line_error(
    backend: str, new_warehouse: NewWarehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mig = tmp_path / "migrations"
    shutil.copytree(db.MIGRATIONS_DIR, mig)
    monkeypatch.setattr(migrate, "MIGRATIONS_DIR", mig)
    path = new_warehouse(backend)
    with db.writer(path):
        pass
    edited = mig / "002_spool_ledger.sql"
    edited.write_text(edited.read_text() + "\n-- an edit after the fact\n")
    db._migrated.clear()
    with pytest.raises(db.MigrationChanged) as err, db.writer(path):
        pass
    message = str(err.value)
    assert "\n" not in message and str(edited) in message
    assert "changed after it was applied" in message and "new numbered migration" in message
    con = db.connect(path, read_only=True, fresh=True)
    assert con.execute("SELECT count(*) FROM schema_migrations").fetchone() == (len(db.migration_files()),)
    con.close()


def test_cli_reports_a_changed_migration_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from flows.cli.commands import main
    from flows.settings import Settings
    from tests.ingest_site import sources_toml

    mig = tmp_path / "migrations"
    shutil.copytree(db.MIGRATIONS_DIR, mig)
    monkeypatch.setattr(migrate, "MIGRATIONS_DIR", mig)
    settings = Settings.load(env={}, data_dir=tmp_path / "var")
    with db.writer(settings.warehouse_path):
        pass
    edited = mig / "001_init.sql"
    edited.write_text(edited.read_text().replace("-- ", "--  ", 1))
    sources = tmp_path / "sources.toml"
    sources.write_text(sources_toml({"x": ("/feed.xml", "en")}, "http://127.0.0.1:9"))
    assert main(["ingest", "--data-dir", str(settings.data_dir), "--sources", str(sources)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(
        f"axiswatch: migration {edited} changed after it was applied"
    )
