"""`axiswatch sql` cannot write, export, install, attach, change settings or read files (issue 16)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from flows.cli import main
from tests.test_sql import warehouse  # noqa: F401 - the fixture

HOME_EXTENSIONS = Path.home() / ".duckdb"


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["sql", *args])
    out, err = capsys.readouterr()
    return code, out, err


def attacks(db: Path, tmp: Path) -> list[str]:
    """Every statement the issue found accepted, plus reads, attach, settings and pragmas."""
    return [
        f"COPY (SELECT 1 AS x) TO '{db}'",
        f"COPY (SELECT 1 AS x) TO '{tmp / 'out.csv'}'",
        f"COPY articles TO '{tmp / 'spool' / 'evil.spool'}'",
        f"EXPORT DATABASE '{tmp / 'export'}'",
        "INSTALL fts",
        "INSTALL httpfs",
        "LOAD httpfs",
        "SELECT * FROM read_text('/etc/hostname')",
        "SELECT * FROM read_blob('/etc/hostname')",
        "SELECT * FROM glob('/etc/*')",
        f"ATTACH '{tmp / 'other.duckdb'}' AS other",
        "SET enable_external_access = true",
        "SET lock_configuration = false",
        "PRAGMA enable_profiling",
        "CALL pragma_version()",
        "SELECT 1; COPY (SELECT 1) TO '/tmp/axiswatch-should-not-exist.csv'",
    ]


def test_no_statement_writes_installs_or_reads_files(
    warehouse: Path,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    before = digest(warehouse)
    work = tmp_path / "work"
    work.mkdir()
    extensions_before = sorted(HOME_EXTENSIONS.rglob("*")) if HOME_EXTENSIONS.exists() else []
    for query in attacks(warehouse, work):
        code, out, err = run(capsys, "--db", str(warehouse), query)
        assert code == 1 and out == "", query
        assert err.startswith("axiswatch sql: ") and err.count("\n") == 1, (query, err)
    assert digest(warehouse) == before
    assert list(work.iterdir()) == []
    assert not Path("/tmp/axiswatch-should-not-exist.csv").exists()
    after = sorted(HOME_EXTENSIONS.rglob("*")) if HOME_EXTENSIONS.exists() else []
    assert after == extensions_before


def test_reads_and_search_still_work(
    warehouse: Path,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    for query in (
        "SHOW TABLES",
        "DESCRIBE articles",
        "EXPLAIN SELECT 1",
        "SELECT count(*) FROM stg_articles",
    ):
        code, out, err = run(capsys, "--db", str(warehouse), query)
        assert code == 0 and err == "", (query, err)
    query = (
        "SELECT count(*) FROM article_search"
        " WHERE fts_main_article_search.match_bm25(article_id, search_terms('alliance')) > 0"
    )
    code, out, _ = run(capsys, "--db", str(warehouse), "--format", "csv", query)
    assert code == 0 and out.splitlines()[1] == "2"


def test_allow_files_reads_only_under_the_directory(
    warehouse: Path,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    allowed = tmp_path / "csv"
    allowed.mkdir()
    (allowed / "ids.csv").write_text("article_id\na1\na3\n")
    (tmp_path / "outside.csv").write_text("article_id\na2\n")
    base = ["--db", str(warehouse), "--allow-files", str(allowed), "--format", "csv"]
    query = f"SELECT count(*) AS n FROM articles JOIN read_csv('{allowed / 'ids.csv'}') USING (article_id)"
    code, out, err = run(capsys, *base, query)
    assert code == 0 and out.splitlines() == ["n", "2"], err
    before = digest(warehouse)
    for attempt in (
        f"SELECT * FROM read_csv('{tmp_path / 'outside.csv'}')",
        f"SELECT * FROM read_blob('{allowed}/../outside.csv')",
        f"COPY (SELECT 1) TO '{allowed / 'written.csv'}'",
        f"COPY (SELECT 1) TO '{warehouse}'",
    ):
        code, out, err = run(capsys, *base, attempt)
        assert code == 1 and out == "" and err.count("\n") == 1, (attempt, err)
    assert sorted(p.name for p in allowed.iterdir()) == ["ids.csv"]
    assert digest(warehouse) == before
    code, _, err = run(capsys, *base[:-2], "--allow-files", str(tmp_path / "missing"), "SELECT 1")
    assert code == 1 and "not a directory" in err
