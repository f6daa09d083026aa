"""Article-level aggregation of passage predictions (pure function), and label order."""

from __future__ import annotations

import math
from dataclasses import dataclass

import pytest

from models.aggregate import MIN_RELEVANT_SHARE, RELEVANCE_RULE, aggregate
from models.labels import LABELS, UnknownLabelError, label_index

PRO_US = {"washington": 0.80, "hedge": 0.10, "beijing": 0.05, "irrelevant": 0.05}
PRO_CN = {"washington": 0.10, "hedge": 0.20, "beijing": 0.60, "irrelevant": 0.10}
OFF_TOPIC = {"washington": 0.02, "hedge": 0.03, "beijing": 0.05, "irrelevant": 0.90}


def test_label_order_is_fixed() -> None:
    assert LABELS == ("washington", "hedge", "beijing", "irrelevant")
    assert [label_index(x) for x in LABELS] == [0, 1, 2, 3]
    with pytest.raises(UnknownLabelError, match="neutral"):
        label_index("neutral")


def test_relevance_weighted_mean_spread_label_and_evidence() -> None:
    result = aggregate([PRO_US, PRO_CN, OFF_TOPIC], [4, 7, 9])
    w1, w2, w3 = 0.95, 0.90, 0.10
    s1, s2, s3 = 0.75, -0.50, -0.03
    mean = (w1 * s1 + w2 * s2 + w3 * s3) / (w1 + w2 + w3)
    spread = math.sqrt(sum(w * (s - mean) ** 2 for w, s in ((w1, s1), (w2, s2), (w3, s3))) / (w1 + w2 + w3))
    assert result.score == pytest.approx(mean)
    assert result.spread == pytest.approx(spread)
    assert result.relevant_share == pytest.approx(2 / 3)
    assert result.n_passages == 3
    assert result.label == "washington"
    assert result.confidence == pytest.approx(0.92 / 1.95)
    # article stance distribution: passages' stance probabilities with irrelevant mass removed,
    # averaged with the same relevance weights
    expected = {"washington": 0.92 / 1.95, "hedge": 0.33 / 1.95, "beijing": 0.70 / 1.95}
    assert result.stance_probs == pytest.approx(expected)
    # evidence: relevant passages by |score|·weight, with their ordinals; the off-topic one is not evidence
    assert [e["ordinal"] for e in result.evidence] == [4, 7]
    assert result.evidence[0] == pytest.approx(
        {"ordinal": 4, "label": "washington", "score": s1, "weight": w1}
    )


def test_nothing_relevant_gives_no_score() -> None:
    result = aggregate([OFF_TOPIC, OFF_TOPIC])
    assert result.score is None and result.spread is None
    assert result.label == "irrelevant"
    assert result.relevant_share == 0.0
    assert result.confidence == pytest.approx(0.90)
    assert result.evidence == []


def test_empty_article() -> None:
    result = aggregate([])
    assert (result.score, result.label, result.n_passages) == (None, "irrelevant", 0)


def test_top_k_limits_evidence_and_default_ordinals() -> None:
    result = aggregate([PRO_CN, PRO_US, PRO_US], top_k=2)
    assert [e["ordinal"] for e in result.evidence] == [1, 2]
    assert result.as_dict()["evidence"] == result.evidence


@dataclass
class _Pred:
    probs: dict[str, float]


def test_accepts_prediction_objects() -> None:
    assert aggregate([_Pred(PRO_US)]).score == pytest.approx(0.75)


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="ordinals"):
        aggregate([PRO_US], [1, 2])
    with pytest.raises(ValueError, match="irrelevant"):
        aggregate([{"washington": 1.0, "hedge": 0.0, "beijing": 0.0}])


def test_article_with_too_few_relevant_passages_is_not_scored() -> None:
    # one stray relevant passage among nine off-topic ones: share 0.1 < 0.2, so no score
    result = aggregate([PRO_US] + [OFF_TOPIC] * 9)
    assert result.score is None and result.spread is None
    assert result.label == "irrelevant"
    assert result.relevant_share == pytest.approx(0.1)
    assert result.confidence == pytest.approx((0.05 + 9 * 0.90) / 10)
    assert result.evidence == [] and result.stance_probs == {}
    assert MIN_RELEVANT_SHARE == 0.2
    assert "0.2" in RELEVANCE_RULE


def test_relevant_share_at_the_threshold_is_scored() -> None:
    # 1 of 5 passages relevant: exactly the threshold, so the article is scored
    result = aggregate([PRO_US] + [OFF_TOPIC] * 4)
    assert result.score is not None and result.label == "washington"
    assert result.relevant_share == pytest.approx(0.2)
    # the threshold is a parameter: 0 restores "any relevant passage", 0.5 refuses 1 of 5
    assert aggregate([PRO_US] + [OFF_TOPIC] * 9, min_relevant_share=0.0).score is not None
    assert aggregate([PRO_US] + [OFF_TOPIC] * 4, min_relevant_share=0.5).score is None
    with pytest.raises(ValueError, match="min_relevant_share"):
        aggregate([PRO_US], min_relevant_share=1.5)


UNSURE = {"washington": 0.40, "hedge": 0.25, "beijing": 0.30, "irrelevant": 0.05}


def test_abstention_ignores_unsure_passages_and_counts_them() -> None:
    """Below ``min_confidence`` a passage neither moves the score nor counts toward relevance."""
    full = aggregate([PRO_CN, UNSURE, UNSURE], [0, 1, 2])
    kept = aggregate([PRO_CN, UNSURE, UNSURE], [0, 1, 2], min_confidence=0.5)
    assert full.n_ignored == 0 and kept.n_ignored == 2
    assert kept.n_passages == 3
    assert kept.score == pytest.approx(-0.50)
    assert full.score is not None and full.score > kept.score
    assert kept.as_dict()["n_ignored"] == 2
    nothing = aggregate([UNSURE], min_confidence=0.5)
    assert nothing.score is None and nothing.n_ignored == 1


def test_korea_mention_rule_needs_a_relevant_passage_that_names_korea() -> None:
    """With mention flags, the relevant passages must include one that names Korea."""
    probs = [PRO_US, PRO_CN, OFF_TOPIC]
    assert aggregate(probs).score is not None
    assert aggregate(probs, mentions=[True, False, False]).score == aggregate(probs).score
    # only the off-topic passage names Korea: not enough
    refused = aggregate(probs, mentions=[False, False, True])
    assert refused.score is None and refused.label == "irrelevant" and refused.evidence == []
    assert refused.relevant_share == pytest.approx(2 / 3)
    # an ignored (unsure) passage that names Korea does not count either
    unsure = aggregate([PRO_CN, UNSURE], mentions=[False, True], min_confidence=0.5)
    assert unsure.score is None and unsure.n_ignored == 1
    with pytest.raises(ValueError, match="Korea-mention"):
        aggregate(probs, mentions=[True])
