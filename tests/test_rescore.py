"""Re-scoring is atomic for readers: killed at any point, the views keep the old complete set."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from flows.settings import PROJECT_ROOT, Settings
from flows.tools.loopback import LoopbackServer
from models.classifier import StanceClassifier
from tests.ingest_site import build_site
from tests.stages import run_ingest, run_score
from tests.test_resume import settings_json
from tests.test_score import use
from warehouse.db import reader

VIEW = "SELECT article_id, model_version, score, label, scored_at FROM stg_article_scores ORDER BY 1"
PASSAGES = "SELECT article_id, ordinal, score, scored_at FROM stg_passage_scores ORDER BY 1, 2"


def rows(settings: Settings, sql: str) -> list[tuple[Any, ...]]:
    with reader(settings.warehouse_path) as con:
        return con.execute(sql).fetchall()


def killed_rescore(settings: Settings, op: str, n: int) -> None:
    """A `score --rescore` subprocess that SIGKILLs itself inside the n-th ``op`` transaction."""
    proc = subprocess.run(
        [
            sys.executable,
            str(PROJECT_ROOT / "tests" / "rescore_runner.py"),
            settings_json(settings),
            op,
            str(n),
        ],
        cwd=PROJECT_ROOT,
        capture_output=True,
        timeout=600,
    )
    assert proc.returncode == -9, proc.stderr.decode()[-2000:]


@pytest.mark.slow
def test_rescore_killed_anywhere_keeps_the_old_complete_set(
    loopback: LoopbackServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = build_site(loopback, tmp_path).replace(batch_size=1)
    run_ingest(settings)
    model = StanceClassifier.load()
    use(monkeypatch, model)
    _, scored = run_score(settings)
    assert scored == 4
    before, passages_before = rows(settings, VIEW), rows(settings, PASSAGES)
    assert len(before) == 4 and passages_before
    for op, n in (("forget_scores", 1), ("store_scores", 1), ("store_scores", 3), ("promote_rescore", 1)):
        killed_rescore(settings, op, n)
        assert rows(settings, VIEW) == before, (op, n)
        assert rows(settings, PASSAGES) == passages_before, (op, n)
        marts = rows(settings, "SELECT sum(n_scored) FROM mart_weekly_stance_source")
        assert marts == [(4,)], (op, n)
    staged = rows(settings, "SELECT count(*) FROM article_scores WHERE model_version LIKE '%~rescore'")
    assert staged[0][0] == 4  # the last kill left a complete staged set that never became visible
    run_score(settings, rescore=True)
    after = rows(settings, VIEW)
    assert [r[:2] for r in after] == [r[:2] for r in before]
    assert all(new[4] > old[4] for new, old in zip(after, before, strict=True))  # the new set, whole
    assert rows(settings, "SELECT count(*) FROM article_scores WHERE model_version LIKE '%~rescore'") == [
        (0,)
    ]
    assert rows(settings, "SELECT count(*) FROM passage_scores WHERE model_version LIKE '%~rescore'") == [
        (0,)
    ]
    assert rows(settings, "SELECT count(*) FROM article_scores") == [(4,)]


@pytest.mark.slow
def test_killed_first_score_shows_nothing_half_done(
    loopback: LoopbackServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = build_site(loopback, tmp_path).replace(batch_size=1)
    run_ingest(settings)
    proc = subprocess.run(
        [sys.executable, "-c", FIRST_SCORE_KILLED, settings_json(settings)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        timeout=600,
    )
    assert proc.returncode == -9, proc.stderr.decode()[-2000:]
    assert rows(settings, "SELECT count(*) FROM article_scores")[0][0] == 2  # half the archive stored
    assert rows(settings, "SELECT count(*) FROM stg_model_version") == [(0,)]
    assert rows(settings, "SELECT count(*) FROM stg_article_scores") == [(0,)]


FIRST_SCORE_KILLED = """
import json, os, signal, sys
from warehouse import sink
from flows.pipeline import score_stage
from flows.settings import Settings
op = sink.OPS["store_scores"]
original, calls = op.apply, []
def killing(self, con):
    result = original(self, con)
    calls.append(1)
    if len(calls) == 3:
        os.kill(os.getpid(), signal.SIGKILL)
    return result
op.apply = killing
score_stage(Settings.load(env={}, **json.loads(sys.argv[1])), plain=True)
"""
