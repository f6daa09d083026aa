"""The DuckLake backend: migrations, keys kept by the write path under concurrent writers,
conflicts re-run, copy from a DuckDB file, search and read-only SQL, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from flows.cli.commands import main
from flows.cli.search import search_rows
from flows.cli.sql import SqlError, run_query
from flows.settings import Settings, SettingsError
from flows.tools.pgserver import PostgresServer
from tests.test_sql_sandbox import hostile, tree
from tests.test_views import seed
from warehouse import db
from warehouse.copy import copy_warehouse, table_keys, verified
from warehouse.lake import Lake, lake_ddl
from warehouse.ops import WriteOp
from warehouse.run_ops import StartRun
from warehouse.sandbox import check_query, sandboxed_reader
from warehouse.score_ops import StoreScores
from warehouse.search_index import refresh_fts
from warehouse.sink import Sink

NewWarehouse = Callable[[str], db.Location]


def test_lake_ddl_drops_what_ducklake_lacks_and_keeps_columns() -> None:
    ddl = lake_ddl(
        "CREATE SEQUENCE s;\nCREATE TABLE t (\n  id BIGINT PRIMARY KEY DEFAULT nextval('s'),\n"
        "  u VARCHAR NOT NULL UNIQUE,\n  k VARCHAR CHECK (k IN ('a', 'b')),\n  PRIMARY KEY (id, u)\n);\n"
        "CREATE INDEX t_u ON t (u);\n"
    )
    assert "SEQUENCE" not in ddl and "INDEX" not in ddl and "PRIMARY" not in ddl and "CHECK" not in ddl
    assert "id BIGINT" in ddl and "u VARCHAR NOT NULL" in ddl and "k VARCHAR" in ddl


def test_every_table_has_its_key_known() -> None:
    keys = table_keys()
    assert keys["entries"] == ("source_id", "guid")
    assert keys["passage_scores"] == ("article_id", "ordinal", "model_version")
    assert all(keys.values()), [t for t, k in keys.items() if not k]


def test_migrations_apply_on_a_lake_and_are_recorded_once(new_warehouse: NewWarehouse) -> None:
    lake = new_warehouse("ducklake")
    with db.writer(lake) as con:
        applied = [r[0] for r in con.execute("SELECT version FROM schema_migrations ORDER BY 1").fetchall()]
        assert applied == [v for v, _, _ in db.migration_files()]
        assert db.migrate(con) == []  # nothing twice


CONCURRENT_WRITER = textwrap.dedent(
    """
    import sys
    from datetime import UTC, datetime
    from warehouse.lake import Lake
    from warehouse.score_ops import StoreScores
    from warehouse.article_ops import StoreArticle
    from warehouse.sink import Sink
    from pathlib import Path
    from tests.test_store import article_text, real_texts

    lake = Lake(sys.argv[1], sys.argv[2])
    sink = Sink(lake, Path(sys.argv[3]), 30.0, commit_ops=int(sys.argv[5]))
    order = list(range(40) if sys.argv[4] == "up" else reversed(range(40)))
    now = datetime(2026, 11, 30, tzinfo=UTC)
    texts = real_texts(8)

    def ops(i):
        row = {"article_id": f"a{i:03d}", "ordinal": 0, "start_char": 0, "end_char": 5,
               "language": "en", "text": "hello"}
        score = {"article_id": f"a{i:03d}", "model_version": "m", "score": 0.1, "label": "hedge",
                 "confidence": 0.5, "relevant_share": 1.0, "spread": 0.0, "n_passages": 1,
                 "evidence_json": "[]", "scored_at": now, "n_ignored": 0}
        art = article_text(f"http://x/{i % 20}", texts[i % 8] + f" {i % 20}", i)
        return [StoreScores([row], [], [score]), StoreArticle(art, None, art.canonical_url, 0.5, now)]

    for start in range(0, 40, 8):  # a fetch batch's writes at once: grouped into lake commits
        batch = [op for i in order[start : start + 8] for op in ops(i)]
        result = sink.apply(sorted(batch, key=lambda op: type(op).__name__))
        assert result is not None and not any(isinstance(r, Exception) for r in result), result
    """
)


def test_two_processes_writing_the_same_keys_store_each_once(
    new_warehouse: NewWarehouse, tmp_path: Path
) -> None:
    """Batched lake commits (the default: many writes per commit) keep each key once."""
    lake = new_warehouse("ducklake")
    assert isinstance(lake, Lake)
    with db.writer(lake):
        pass  # migrated once, as a deployment does before workers start
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                CONCURRENT_WRITER,
                lake.catalog,
                lake.data_path,
                str(tmp_path / d),
                d,
                "64",
            ],
            stderr=subprocess.PIPE,
            text=True,
        )
        for d in ("up", "down")
    ]
    errors = [p.communicate(timeout=300)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], errors
    with db.reader(lake) as con:
        assert con.execute("SELECT count(*), count(DISTINCT article_id) FROM passages").fetchone() == (40, 40)
        assert con.execute("SELECT count(*), count(DISTINCT article_id) FROM article_scores").fetchone() == (
            40,
            40,
        )
        assert con.execute("SELECT count(*), count(DISTINCT canonical_url) FROM articles").fetchone() == (
            20,
            20,
        )
        bands = con.execute(
            "SELECT count(*), count(DISTINCT (band, article_id)) FROM article_bands"
        ).fetchone()
        assert bands is not None and bands[0] == bands[1] > 0


def test_a_commit_that_loses_to_a_concurrent_writer_raises_write_conflict(
    new_warehouse: NewWarehouse,
) -> None:
    lake = new_warehouse("ducklake")
    assert isinstance(lake, Lake)
    with db.writer(lake):
        pass
    first, second = db.connect(lake, fresh=True), db.connect(lake, fresh=True)
    with pytest.raises(db.WriteConflict), db.transaction(first):
        first.execute("INSERT INTO spool_ledger VALUES ('one', 1, now())")
        with db.transaction(second):
            second.execute("INSERT INTO spool_ledger VALUES ('two', 1, now())")
    with db.reader(lake) as con:
        assert con.execute("SELECT spool_file FROM spool_ledger").fetchall() == [("two",)]


def test_copy_from_a_file_to_a_lake_is_verified_and_a_rerun_adds_nothing(new_warehouse: NewWarehouse) -> None:
    source, target = new_warehouse("duckdb"), new_warehouse("ducklake")
    with db.writer(source) as con:
        seed(con)
    first = copy_warehouse(source, target)
    assert verified(first)
    assert sum(r.copied for r in first) == sum(r.source_rows for r in first) > 20
    again = copy_warehouse(source, target)
    assert verified(again) and sum(r.copied for r in again) == 0
    with db.reader(source) as a, db.reader(target) as b:
        sql = "SELECT * FROM mart_weekly_stance_source ORDER BY week, source_id"
        assert rounded(a.execute(sql).fetchall()) == rounded(b.execute(sql).fetchall())


def rounded(rows: list[tuple[object, ...]]) -> list[tuple[object, ...]]:
    """Rows with floats to 9 decimals: an aggregate over rows read in another order may differ in
    its last bits between backends."""
    return [tuple(round(v, 9) if isinstance(v, float) else v for v in row) for row in rows]


def test_search_finds_the_article_on_a_lake(new_warehouse: NewWarehouse) -> None:
    lake = new_warehouse("ducklake")
    with db.writer(lake) as con:
        seed(con)
        title = con.execute(
            "SELECT title, article_id FROM stg_articles ORDER BY article_id LIMIT 1"
        ).fetchone()
        assert title is not None
        refresh_fts(con)
        hits = search_rows(con, str(title[0]))
    assert hits[0][0] == 1 and hits[0][5] == title[0]  # rank 1 is the article of that title


def test_sql_reads_a_lake_and_refuses_writes(new_warehouse: NewWarehouse, tmp_path: Path) -> None:
    lake = new_warehouse("ducklake")
    assert isinstance(lake, Lake)
    with db.writer(lake) as con:
        seed(con)
        con.execute("CALL ducklake_flush_inlined_data('lake')")  # table data into Parquet files
    data = Path(lake.data_path)
    before = tree(data)
    assert any(name.endswith(".parquet") for name, _ in before)
    columns, rows = run_query(lake, "SELECT count(*) AS n FROM stg_articles")
    assert columns == ["n"] and rows[0][0] > 0
    _, titles = run_query(lake, "SELECT title FROM articles ORDER BY title LIMIT 2")
    assert titles and all(t[0] for t in titles)
    with pytest.raises(SqlError):
        run_query(lake, "DELETE FROM articles")
    work, allowed = tmp_path / "work", tmp_path / "allowed"
    work.mkdir(), allowed.mkdir()
    parquet = next(data / name for name, _ in before if name.endswith(".parquet"))
    for allow_dir in (None, allowed):  # one sandboxed session each: a lake attach costs ~0.5 s
        with sandboxed_reader(lake, allow_dir=allow_dir) as con:
            for query in hostile(parquet, work, allowed):
                try:
                    check_query(con, query)
                    con.execute(query).fetchall()
                except (duckdb.Error, db.WarehouseError):
                    continue
                assert reads_a_file(query), query  # the lake's own data path is readable, nothing else
    assert tree(data) == before and tree(work) == [] and tree(allowed) == []
    assert run_query(lake, "SELECT count(*) AS n FROM stg_articles")[1] == rows


def reads_a_file(query: str) -> bool:
    """A statement of the corpus that only reads a file (allowed on a lake's data path)."""
    return query.startswith("SELECT * FROM read_") or query.startswith("SELECT * FROM '")


def test_bad_warehouse_settings_are_one_line() -> None:
    with pytest.raises(SettingsError, match="AXISWATCH_WAREHOUSE_DATA_PATH"):
        Settings.load({"AXISWATCH_WAREHOUSE": "ducklake:postgres:host=127.0.0.1 dbname=x"})
    with pytest.raises(SettingsError, match="duckdb:PATH or ducklake:postgres"):
        Settings.load({"AXISWATCH_WAREHOUSE": "sqlite:x.db"})


def test_an_unreachable_catalog_is_one_line(tmp_path: Path) -> None:
    closed = Lake("host=127.0.0.1 port=1 user=axiswatch dbname=none connect_timeout=2", str(tmp_path))
    with pytest.raises(db.WarehouseError, match="cannot open the DuckLake warehouse") as caught:
        db.connect(closed)
    assert "\n" not in str(caught.value)


def test_writes_while_the_catalog_is_down_are_spooled_and_replayed_once(tmp_path: Path) -> None:
    now = datetime(2026, 11, 30, tzinfo=UTC)

    def write(i: int) -> list[WriteOp]:
        row = {"article_id": f"a{i}", "ordinal": 0, "start_char": 0, "end_char": 5, "text": "hello"}
        return [StoreScores([row], [], []), StartRun(i, "ingest", now)]

    with PostgresServer() as pg:
        lake = Lake(pg.createdb("lake"), str(tmp_path / "data"))
        sink = Sink(lake, tmp_path / "spool", 5.0)
        assert sink.apply(write(1)) is not None
        pg.restart()  # a restart between writes costs nothing: the catalog connection comes back
        assert sink.apply(write(2)) is not None
        pg.stop()
        assert sink.apply(write(3)) is None  # kept aside, not lost
        assert len(sink.pending_spool()) == 1
        pg.start()
        assert sink.replay() == 2
        assert sink.replay() == 0
        with db.reader(lake) as con:
            assert con.execute("SELECT list(article_id ORDER BY 1) FROM passages").fetchone() == (
                ["a1", "a2", "a3"],
            )
            assert con.execute("SELECT count(*) FROM runs").fetchone() == (3,)


def test_status_reads_a_lake(
    new_warehouse: NewWarehouse, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lake = new_warehouse("ducklake")
    assert isinstance(lake, Lake)
    with db.writer(lake) as con:
        seed(con)
    env = {
        "AXISWATCH_WAREHOUSE": f"ducklake:postgres:{lake.catalog}",
        "AXISWATCH_WAREHOUSE_DATA_PATH": lake.data_path,
    }
    with pytest.MonkeyPatch.context() as mp:
        for key, value in env.items():
            mp.setenv(key, value)
        code = main(["status", "--json", "--data-dir", str(tmp_path / "var")])
    report = json.loads(capsys.readouterr().out)
    assert code in (0, 1) and report["sources"], report


OPEN_WRITER = textwrap.dedent(
    """
    import sys, time
    from warehouse import db
    from warehouse.lake import Lake

    lake = Lake(sys.argv[1], sys.argv[2])
    time.sleep(max(0.0, float(sys.argv[3]) - time.time()))  # all start together
    with db.writer(lake) as con:
        con.execute("SELECT count(*) FROM mart_weekly_stance_source").fetchall()
    """
)


@pytest.mark.parametrize("migrated", [False, True])
def test_processes_opening_one_lake_at_once_all_start(new_warehouse: NewWarehouse, migrated: bool) -> None:
    lake = new_warehouse("ducklake")
    assert isinstance(lake, Lake)
    if migrated:  # then each process still refreshes the views on its first open
        with db.writer(lake):
            pass
    at = str(time.time() + 3.0)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", OPEN_WRITER, lake.catalog, lake.data_path, at],
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    errors = [p.communicate(timeout=300)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], [e.strip().splitlines()[-1:] for e in errors]
    with db.reader(lake) as con:
        versions = [v for (v,) in con.execute("SELECT version FROM schema_migrations ORDER BY 1").fetchall()]
    assert versions == [v for v, _, _ in db.migration_files()]  # each recorded once
