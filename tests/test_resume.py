"""Killed runs and locked warehouses: nothing half-written, nothing lost, nothing twice."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from flows.settings import PROJECT_ROOT, Settings
from flows.tools.loopback import LoopbackServer
from tests.ingest_site import build_site, feed_bytes, item, serve_story
from tests.stages import run_ingest
from warehouse.db import writer

CLEAN_RUN_ARTICLES = 5  # what build_site yields in one uninterrupted run


def settings_json(settings: Settings) -> str:
    """The settings as JSON for kill_runner.py (which rebuilds them with Settings.load)."""
    return settings.model_dump_json(exclude_none=True)


def check_consistent(path: Path) -> int:
    """Open the warehouse as the next run would (applying any migration a kill cut short) and
    check no article, document or entry is half-written."""
    with writer(path, patience=5) as con:
        orphan_articles = con.execute(
            "SELECT count(*) FROM articles a WHERE NOT EXISTS "
            "(SELECT 1 FROM entries e WHERE e.article_id = a.article_id)"
        ).fetchone()
        orphan_documents = con.execute(
            "SELECT count(*) FROM documents d WHERE NOT EXISTS "
            "(SELECT 1 FROM articles a WHERE a.document_id = d.document_id)"
        ).fetchone()
        dangling_entries = con.execute(
            "SELECT count(*) FROM entries e WHERE e.state IN ('stored', 'duplicate') AND NOT EXISTS "
            "(SELECT 1 FROM articles a WHERE a.article_id = e.article_id)"
        ).fetchone()
        unbanded = con.execute(
            "SELECT count(*) FROM articles a WHERE duplicate_of IS NULL AND NOT EXISTS "
            "(SELECT 1 FROM article_bands b WHERE b.article_id = a.article_id)"
        ).fetchone()
        assert orphan_articles == orphan_documents == dangling_entries == unbanded == (0,)
        row = con.execute("SELECT count(*), count(DISTINCT canonical_url) FROM articles").fetchone()
        assert row is not None and row[0] == row[1]
        return int(row[0])


@pytest.mark.parametrize("commit_writes, committed", [(1, 2), (64, 0)])
def test_run_killed_inside_an_article_write_resumes_cleanly(
    loopback: LoopbackServer, tmp_path: Path, commit_writes: int, committed: int
) -> None:
    settings = build_site(loopback, tmp_path).replace(commit_writes=commit_writes)
    proc = subprocess.run(
        [sys.executable, str(PROJECT_ROOT / "tests" / "kill_runner.py"), settings_json(settings), "3"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        timeout=120,
    )
    assert proc.returncode == -9, proc.stderr.decode()[-2000:]
    # one article per commit: the third one's transaction never committed; the default commit of the
    # whole fetch batch: none of its articles did
    assert check_consistent(settings.warehouse_path) == committed
    run_ingest(settings)
    assert check_consistent(settings.warehouse_path) == CLEAN_RUN_ARTICLES
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    assert con.execute("SELECT count(*) FROM entries WHERE state IN ('new', 'failed')").fetchone() == (0,)
    con.close()


def test_runs_killed_at_random_moments_never_corrupt(loopback: LoopbackServer, tmp_path: Path) -> None:
    settings = build_site(loopback, tmp_path)
    for delay in (1.5, 2.5):
        proc = subprocess.Popen(
            [sys.executable, str(PROJECT_ROOT / "tests" / "kill_runner.py"), settings_json(settings), "0"],
            cwd=PROJECT_ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(delay)
        proc.kill()
        proc.wait(timeout=30)
        if settings.warehouse_path.exists():
            check_consistent(settings.warehouse_path)
    run_ingest(settings)
    assert check_consistent(settings.warehouse_path) == CLEAN_RUN_ARTICLES


def test_run_killed_inside_a_migration_leaves_a_warehouse_the_next_run_completes(
    loopback: LoopbackServer, tmp_path: Path
) -> None:
    settings = build_site(loopback, tmp_path)
    proc = subprocess.run(
        [sys.executable, str(PROJECT_ROOT / "tests" / "kill_runner.py"), settings_json(settings), "0", "3"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        timeout=120,
    )
    assert proc.returncode == -9, proc.stderr.decode()[-2000:]
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    assert con.execute("SELECT max(version), count(*) FROM schema_migrations").fetchone() == (2, 2)
    con.close()
    run_ingest(settings)
    assert check_consistent(settings.warehouse_path) == CLEAN_RUN_ARTICLES


HOLD_READ_ONLY = """
import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
print("holding", flush=True)
sys.stdin.read()  # hold until the test closes our stdin
"""


def test_reader_holding_the_file_through_a_run_loses_nothing(
    loopback: LoopbackServer, tmp_path: Path
) -> None:
    settings = build_site(loopback, tmp_path).replace(lock_patience_seconds=0.5)
    run_ingest(settings)
    before = check_consistent(settings.warehouse_path)
    # new stories appear in the feed while an analyst keeps a read-only session open
    late = serve_story(loopback, "/news/late.html", "hedge", intro="A late statement from the ministry.")
    loopback.route(
        "/feeds/english.xml",
        feed_bytes("english", [item("late1", late, "Late story")]),
        content_type="application/rss+xml",
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_READ_ONLY, str(settings.warehouse_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        counts = run_ingest(settings)
        assert counts.spooled > 0 and counts.feeds_polled == 2
        spooled_files = len(list(settings.spool_dir.glob("*.spool")))
        assert spooled_files >= 2  # sources sync, then the feed polls
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=10)
    counts = run_ingest(settings)  # replays the spool first, then fetches what it recorded
    assert not list(settings.spool_dir.glob("*.spool"))
    assert check_consistent(settings.warehouse_path) == before + 1
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    assert con.execute("SELECT count(*) FROM spool_ledger").fetchone() == (spooled_files,)
    assert con.execute("SELECT count(*) FROM articles WHERE title = 'Late story'").fetchone() == (1,)
    con.close()
