"""Pole statements restricted to some heads, and the off-topic relevance measurement (no encoders)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from models.classifier import Prediction, StanceClassifier
from models.mentions import KOREA_MENTION
from models.relevance import benchmark_texts, off_topic_check
from models.training import POLES, TrainingDataError, pole_examples

ON_AXIS = "Seoul should side with Washington against Beijing on every front, from chips to missile defence."
ON_AXIS_NO_KOREA = (
    "Washington should face down Beijing on every front, from chips and batteries to missile defence."
)


def _write_poles(directory: Path, rows: list[dict[str, object]]) -> Path:
    (directory / POLES).write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return directory


def test_pole_heads_field_restricts_which_heads_learn(tmp_path: Path) -> None:
    rows: list[dict[str, object]] = [
        {"id": "p-1", "label": "washington", "text": "Seoul sides with Washington."},
        {"id": "p-2", "label": "beijing", "text": "Seoul leans to Beijing.", "heads": ["en"]},
    ]
    free, english_only = pole_examples(_write_poles(tmp_path, rows))
    assert free.heads == () and free.trains("en") and free.trains("multilingual")
    assert english_only.heads == ("en",)
    assert english_only.trains("en") and not english_only.trains("multilingual")


def test_unknown_head_name_is_refused(tmp_path: Path) -> None:
    rows: list[dict[str, object]] = [{"id": "p-9", "label": "hedge", "text": "Both.", "heads": ["fr"]}]
    with pytest.raises(TrainingDataError, match="p-9: heads"):
        pole_examples(_write_poles(tmp_path, rows))


class _KeywordModel:
    """Stand-in classifier: a passage is relevant iff it is an on-axis sentence."""

    abstain_below = 0.0
    article_score = StanceClassifier.article_score

    def __init__(self, article_rules: tuple[str, ...] = ()) -> None:
        self.article_rules = article_rules

    def predict_passages(self, texts: list[str]) -> list[Prediction]:
        on = {"washington": 0.8, "hedge": 0.1, "beijing": 0.05, "irrelevant": 0.05}
        off = {"washington": 0.02, "hedge": 0.03, "beijing": 0.05, "irrelevant": 0.9}
        return [
            Prediction("washington", on, 0.75, "en", "test")
            if t in (ON_AXIS, ON_AXIS_NO_KOREA)
            else Prediction("irrelevant", off, -0.03, "en", "test")
            for t in texts
        ]


def test_off_topic_check_counts_pages_with_and_without_the_rule(tmp_path: Path) -> None:
    filler = "A paragraph about a game launch: new maps, new missions, new heroes, and a long road map."
    filler = f"{filler} {filler}"
    pages = {
        "a-stray": {"articleBody": "\n\n".join([ON_AXIS] + [filler] * 9)},  # share 0.1: dropped
        "b-dense": {"articleBody": "\n\n".join([ON_AXIS, filler])},  # share 0.5: kept
        "c-none": {"articleBody": filler},
        "d-empty": {"articleBody": "  "},
        "e-no-korea": {"articleBody": "\n\n".join([ON_AXIS_NO_KOREA, filler])},  # share 0.5, no Korea
    }
    path = tmp_path / "ground-truth.json"
    path.write_text(json.dumps(pages), encoding="utf-8")
    texts = benchmark_texts(path)
    assert sorted(texts) == ["a-stray", "b-dense", "c-none", "e-no-korea"]
    result = off_topic_check(_KeywordModel(), texts)  # type: ignore[arg-type]
    assert result["pages"] == 4 and result["passages"] == 15
    assert result["relevant_any_passage"] == 3
    assert result["relevant_with_share_rule"] == result["relevant_with_rule"] == 2
    assert result["shares_of_pages_with_a_relevant_passage"] == [0.1, 0.5, 0.5]
    ruled = off_topic_check(_KeywordModel((KOREA_MENTION,)), texts)  # type: ignore[arg-type]
    assert ruled["relevant_with_share_rule"] == 2
    assert ruled["relevant_with_rule"] == 1 and ruled["relevant_with_rule_pages"] == ["b-dense"]
