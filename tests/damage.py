"""Damaged and foreign warehouses for the storage tests, built from tests/hostile/storage/cases.toml.

``base_warehouse`` is a migrated warehouse with enough rows in ``runs``, ``sources`` and the
search index that each lives in data blocks of its own; ``damage`` applies one case of the
corpus to a copy: bytes overwritten in a block header near the start of the file, inside the
data blocks of one table (found with DuckDB's ``pragma_storage_info``), or the file cut short.
"""

from __future__ import annotations

import shutil
import sqlite3
import tomllib
from pathlib import Path
from typing import Any

import duckdb

from warehouse import db

CORPUS = Path(__file__).parent / "hostile" / "storage"
HEADER_BYTES = 3 * 4096  # the file header and two database headers; blocks follow
ROWS = 20_000


def cases() -> dict[str, dict[str, Any]]:
    """The storage cases of the corpus, by name."""
    with (CORPUS / "cases.toml").open("rb") as fh:
        return {case["name"]: case for case in tomllib.load(fh)["case"]}


def base_warehouse(path: Path) -> Path:
    """A migrated warehouse with ROWS runs, sources and indexed search texts, closed."""
    with db.writer(path) as con:
        con.execute(
            "INSERT INTO runs (flow, started_at, outcome, message)"
            " SELECT 'pipeline', now() - i * INTERVAL 1 hour,"
            " 'ok', repeat(md5(i::VARCHAR), 4) FROM range(?) t(i)",
            [ROWS],
        )
        con.execute(
            "INSERT INTO sources (source_id, name, feed_url, country, language, kind, active, synced_at)"
            " SELECT 's' || i, repeat(md5(i::VARCHAR), 4), 'http://127.0.0.1:9/' || i, 'US', 'en', 'blog',"
            " false, now() FROM range(?) t(i)",
            [ROWS],
        )
        con.execute(
            "INSERT INTO article_search (article_id, tokenizer_version, search_text) SELECT 'a' || i, 'v',"
            " 'korea seoul washington beijing ' || md5(i::VARCHAR) FROM range(?) t(i)",
            [ROWS],
        )
        db.load_fts(con)
        con.execute("PRAGMA create_fts_index('article_search', 'article_id', 'search_text')")
        con.execute("CHECKPOINT")
    return path


def table_blocks(path: Path, table: str) -> list[int]:
    """The persistent data blocks of ``table`` (schema.table allowed), in order."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        rows = con.execute(
            "SELECT DISTINCT block_id FROM pragma_storage_info(?) WHERE block_id >= 0 ORDER BY 1", [table]
        ).fetchall()
        size = con.execute("SELECT block_size FROM pragma_database_size()").fetchone()
    finally:
        con.close()
    assert rows and size, f"{table} has no persistent blocks in {path}"
    return [HEADER_BYTES + int(row[0]) * int(size[0]) for row in rows]


def damage(base: Path, target: Path, case: dict[str, Any]) -> Path:
    """A copy of ``base`` at ``target`` damaged as ``case`` says; returns ``target``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if case["kind"] == "sqlite":
        return sqlite_file(target)
    if case["kind"] == "bytes":
        target.write_bytes(bytes.fromhex(case["hex"]))
        return target
    shutil.copyfile(base, target)
    if case["kind"] == "truncate":
        target.write_bytes(target.read_bytes()[: int(target.stat().st_size * case["keep"])])
        return target
    offsets = [HEADER_BYTES] if case["kind"] == "first_block" else table_blocks(base, case["table"])
    with target.open("r+b") as fh:
        for offset in offsets:
            fh.seek(offset + case["at"])
            fh.write(bytes.fromhex(case["hex"]) * case["repeat"])
    return target


def sqlite_file(path: Path) -> Path:
    """An SQLite database with one table (what a careless --db may point at)."""
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE t (x)")
    con.execute("INSERT INTO t VALUES (1)")
    con.commit()
    con.close()
    return path
