"""StanceClassifier on the committed artifact, and the seed-article expectation."""

from __future__ import annotations

import pytest

from flows.settings import SEEDS_DIR
from models.classifier import Prediction, StanceClassifier
from models.labels import LABELS
from models.registry import ModelNotFoundError
from models.training import load_seed_labels


@pytest.fixture(scope="module")
def model() -> StanceClassifier:
    """The latest committed model (encoders are shared within the test process)."""
    return StanceClassifier.load()


def test_predict_single_and_batch(model: StanceClassifier) -> None:
    one = model.predict("South Korea keeps its alliance with the US while managing ties with China.")
    assert isinstance(one, Prediction)
    many = model.predict(
        ["Seoul balances Washington and Beijing.", "한국은 균형 외교를 추구한다.", "韩国倒向美国。"]
    )
    assert [p.language for p in many] == ["en", "ko", "zh"]
    assert [p.encoder for p in many] == ["minilm+use-multilingual", "use-multilingual", "use-multilingual"]
    for p in [one, *many]:
        assert tuple(p.probs) == LABELS
        assert sum(p.probs.values()) == pytest.approx(1.0)
        assert p.label == max(p.probs, key=lambda k: p.probs[k])
        assert p.score == pytest.approx(p.probs["washington"] - p.probs["beijing"])
        assert -1.0 <= p.score <= 1.0


def test_batch_results_do_not_depend_on_batch_company(model: StanceClassifier) -> None:
    text = "Seoul stakes its future on Washington."
    alone = model.predict(text)
    together = model.predict(["A long unrelated sentence about K-pop charts and concerts in Seoul.", text])[1]
    assert alone.probs == pytest.approx(together.probs, abs=1e-5)


def test_empty_text_is_refused(model: StanceClassifier) -> None:
    with pytest.raises(ValueError, match="empty"):
        model.predict_passages(["fine", "   "])


def test_unknown_version_lists_available() -> None:
    with pytest.raises(ModelNotFoundError, match="available"):
        StanceClassifier.load("stance-000000000000")


def test_empty_article_has_no_passages(model: StanceClassifier) -> None:
    result = model.score_article("  \n ")
    assert result.passages == [] and result.article.score is None


def test_seed_article_is_washington_leaning_with_hedges_recognised(model: StanceClassifier) -> None:
    text = (SEEDS_DIR / "seed_article.txt").read_text(encoding="utf-8")
    result = model.score_article(text)
    assert result.article.score is not None and result.article.score >= 0.3
    assert result.article.label == "washington"
    assert len(result.article.evidence) == 3
    hedges = [s for s in load_seed_labels(SEEDS_DIR) if s.label == "hedge"]
    predicted = model.predict([s.text for s in hedges])
    recognised = sum(p.label == "hedge" for p in predicted)
    assert recognised / len(hedges) >= 0.8
    recorded = model.card["seed_article"]["in_sample"]["article"]["score"]
    assert result.article.score == pytest.approx(recorded, abs=1e-3)
