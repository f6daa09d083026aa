"""The score stage: every original scored once per model version, idempotent, versions apart."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from flows.score import stage as score
from flows.settings import Settings
from flows.tools.loopback import LoopbackServer
from models.classifier import StanceClassifier
from tests.ingest_site import build_site
from tests.stages import run_ingest, run_score
from warehouse.db import reader


@pytest.fixture(scope="module")
def classifier() -> StanceClassifier:
    return StanceClassifier.load()


@pytest.fixture
def ingested(loopback: LoopbackServer, tmp_path: Path) -> Settings:
    settings = build_site(loopback, tmp_path)
    run_ingest(settings)
    return settings


def rows(settings: Settings, sql: str) -> list[tuple[Any, ...]]:
    with reader(settings.warehouse_path) as con:
        return con.execute(sql).fetchall()


def use(monkeypatch: pytest.MonkeyPatch, model: StanceClassifier) -> None:
    """Make the score stage use ``model`` (its version and card included)."""
    monkeypatch.setattr(StanceClassifier, "load", classmethod(lambda cls, *a, **k: model))
    monkeypatch.setattr(score, "resolve_version", lambda _version: model.version)
    monkeypatch.setattr(score, "read_card", lambda _version: model.card)


def test_scores_every_original_once(
    ingested: Settings, classifier: StanceClassifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    use(monkeypatch, classifier)
    version, scored = run_score(ingested)
    originals = rows(ingested, "SELECT count(*) FROM articles WHERE duplicate_of IS NULL")[0][0]
    assert version == classifier.version and scored == originals == 4  # the wire copy is not scored
    per_article = rows(ingested, "SELECT article_id, n_passages, label FROM article_scores")
    assert len(per_article) == 4 and all(n >= 1 for _, n, _ in per_article)
    assert {label for *_, label in per_article} <= {"washington", "hedge", "beijing", "irrelevant"}
    counts = rows(
        ingested,
        "SELECT (SELECT count(*) FROM passages), (SELECT count(*) FROM passage_scores),"
        " (SELECT count(*) FROM model_versions)",
    )[0]
    assert counts[0] == counts[1] == sum(n for _, n, _ in per_article) and counts[2] == 1
    probs = rows(
        ingested,
        "SELECT p_washington + p_hedge + p_beijing + p_irrelevant, score,"
        " p_washington - p_beijing FROM passage_scores",
    )
    assert all(abs(total - 1) < 1e-6 and abs(s - d) < 1e-9 for total, s, d in probs)
    kpop = rows(
        ingested,
        "SELECT s.label FROM article_scores s JOIN articles a USING (article_id)"
        " WHERE a.title = 'Concert sells out'",
    )
    assert kpop == [("irrelevant",)]


def test_second_run_adds_nothing(
    ingested: Settings, classifier: StanceClassifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    use(monkeypatch, classifier)
    run_score(ingested)
    before = rows(ingested, "SELECT count(*), max(scored_at) FROM article_scores")
    assert run_score(ingested)[1] == 0
    assert rows(ingested, "SELECT count(*), max(scored_at) FROM article_scores") == before


def test_new_version_scores_again_and_keeps_the_old_rows(
    ingested: Settings, classifier: StanceClassifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    use(monkeypatch, classifier)
    run_score(ingested)
    old = rows(ingested, "SELECT article_id, score FROM article_scores ORDER BY 1")
    newer = StanceClassifier(classifier.version + "-next", classifier.heads, classifier.card)
    use(monkeypatch, newer)
    assert run_score(ingested)[1] == 4
    by_version = dict(rows(ingested, "SELECT model_version, count(*) FROM article_scores GROUP BY 1"))
    assert by_version == {classifier.version: 4, newer.version: 4}
    assert (
        rows(
            ingested,
            f"SELECT article_id, score FROM article_scores WHERE model_version = "
            f"'{classifier.version}' ORDER BY 1",
        )
        == old
    )
    assert rows(ingested, "SELECT model_version FROM stg_model_version") == [(newer.version,)]


def test_rescore_redoes_only_that_version(
    ingested: Settings, classifier: StanceClassifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    use(monkeypatch, classifier)
    run_score(ingested)
    first = rows(ingested, "SELECT max(scored_at) FROM article_scores")[0][0]
    _, scored = run_score(ingested, rescore=True)
    assert scored == 4
    assert rows(
        ingested, "SELECT count(*), min(scored_at) > ? FROM article_scores".replace("?", f"'{first}'")
    ) == [(4, True)]


def test_nothing_to_score_does_not_load_the_encoders(
    ingested: Settings, classifier: StanceClassifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    use(monkeypatch, classifier)
    run_score(ingested)

    def refuse(*_: object, **__: object) -> StanceClassifier:
        raise AssertionError("the model was loaded although nothing needed scoring")

    monkeypatch.setattr(StanceClassifier, "load", classmethod(refuse))
    assert run_score(ingested) == (classifier.version, 0)
