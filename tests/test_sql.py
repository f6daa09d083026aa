"""`axiswatch sql`: read-only ad hoc SQL, formats, one-line errors, full-text search."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from flows.cli.commands import main
from flows.ingest import dedup as neardup
from warehouse import db
from warehouse.search_index import refresh_fts

NOW = datetime(2026, 11, 20, tzinfo=UTC)
TEXTS = {
    "a1": (
        "Alliance deepens",
        "Seoul and Washington deepen their alliance with joint drills and chip controls.",
    ),
    "a2": (
        "Trade with Beijing",
        "Exports to China fell as Seoul weighed trade ties with Beijing and the alliance.",
    ),
    "a3": ("Concert sells out", "Fans lined up overnight for the concert in Seoul."),
}


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    path = tmp_path / "w.duckdb"
    with db.writer(path) as con:
        rows = [
            {
                "article_id": k,
                "canonical_url": f"https://x.test/{k}",
                "url": f"https://x.test/{k}",
                "source_id": "s",
                "title": t,
                "text": body,
                "text_chars": len(body),
                "text_hash": k,
                "fingerprint": neardup.to_bytes(neardup.signature(body)),
                "extraction_method": "trafilatura",
                "extracted_at": NOW,
                "published_at": NOW,
                "language": "en",
            }
            for k, (t, body) in TEXTS.items()
        ]
        db.insert_rows(con, "articles", rows)
        refresh_fts(con)
    return path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["sql", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_table_csv_and_json_formats(warehouse: Path, capsys: pytest.CaptureFixture[str]) -> None:
    query = "SELECT article_id, title FROM articles ORDER BY article_id"
    code, out, _ = run(capsys, "--db", str(warehouse), query)
    assert code == 0 and out.splitlines()[0].split() == ["article_id", "title"] and "(3 rows)" in out
    code, out, _ = run(capsys, "--db", str(warehouse), "--format", "csv", query)
    assert list(csv.reader(io.StringIO(out)))[1] == ["a1", "Alliance deepens"]
    code, out, _ = run(capsys, "--db", str(warehouse), "--format", "json", query)
    assert json.loads(out)[2] == {"article_id": "a3", "title": "Concert sells out"}


def test_query_from_file(warehouse: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sql = tmp_path / "q.sql"
    sql.write_text("SELECT count(*) AS n FROM articles;\n")
    code, out, _ = run(capsys, "--db", str(warehouse), "-f", str(sql), "--format", "csv")
    assert code == 0 and out.strip().splitlines() == ["n", "3"]


def test_ranked_keyword_search(warehouse: Path, capsys: pytest.CaptureFixture[str]) -> None:
    query = (
        "SELECT article_id,"
        " round(fts_main_article_search.match_bm25(article_id, search_terms('Alliance Seoul')), 3) AS score"
        " FROM article_search WHERE score IS NOT NULL ORDER BY score DESC"
    )
    code, out, _ = run(capsys, "--db", str(warehouse), "--format", "json", query)
    ranked = [r["article_id"] for r in json.loads(out)]
    assert code == 0 and ranked[0] == "a1" and set(ranked) == {"a1", "a2", "a3"}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("SELEC 1", "SQL syntax error"),
        ("SELECT * FROM nope", "SHOW TABLES"),
        ("DELETE FROM articles", "read-only: DELETE is not allowed"),
        ("INSERT INTO runs (flow, started_at) VALUES ('x', now())", "read-only: INSERT is not allowed"),
        ("CREATE TABLE t (x INT)", "read-only"),
    ],
)
def test_errors_are_one_clear_line(
    warehouse: Path, capsys: pytest.CaptureFixture[str], query: str, expected: str
) -> None:
    code, out, err = run(capsys, "--db", str(warehouse), query)
    assert code == 1 and out == ""
    assert err.startswith("axiswatch sql: ") and expected in err and err.count("\n") == 1
    assert duckdb.connect(str(warehouse), read_only=True).execute(
        "SELECT count(*) FROM articles"
    ).fetchone() == (3,)


def test_missing_warehouse_and_missing_query(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "--db", str(tmp_path / "none.duckdb"), "SELECT 1")
    assert code == 1 and "no warehouse at" in err
    code, _, err = run(capsys, "--db", str(tmp_path / "none.duckdb"))
    assert code == 1 and "give a query" in err
