"""Which passages name South Korea (models.mentions), and the rule as a versioned part of a model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from models.classifier import Prediction, StanceClassifier
from models.mentions import KOREA_MENTION, korea_mentions, names_korea
from models.registry import ARTIFACTS_DIR, heads_bytes, read_article_rules, read_card, read_heads, version_of

NAMING = [
    ("Seoul should not let Beijing dictate where a defensive battery goes.", "en"),
    ("South Korean exporters fear losing their largest market.", "en"),
    ("The ROK-US alliance is the linchpin of the region.", "en"),
    ("Yoon Suk Yeol tilted toward Washington within months.", "en"),
    ("美韩同盟不应成为围堵中国的工具。", "zh"),
    ("韓國政府在中美之間左右為難。", "zh"),
    ("우리 정부는 어느 한쪽을 고르기보다 양쪽을 잇는 편이 낫다.", "ko"),
]
NOT_NAMING = [
    ("Washington and Beijing resumed trade talks after a tariff truce.", "en"),
    ("Hong Kong's protesters filled the airport again on Monday.", "en"),
    ("The rock band played in Brooklyn.", "en"),
    ("中美贸易谈判再次陷入僵局。", "zh"),
]


@pytest.mark.parametrize(("text", "language"), NAMING)
def test_passages_that_name_korea(text: str, language: str) -> None:
    assert names_korea(text, language)


@pytest.mark.parametrize(("text", "language"), NOT_NAMING)
def test_passages_that_do_not(text: str, language: str) -> None:
    assert not names_korea(text, language)


def test_korean_language_counts_by_itself() -> None:
    text = "우리 정부는 균형 외교를 해야 한다."
    assert names_korea(text, "ko")
    assert korea_mentions([text, "Trade talks resumed."], ["ko", "en"]) == [True, False]


def _classifier(rules: tuple[str, ...]) -> StanceClassifier:
    """The committed model's heads with the given article rules (no encoder is loaded)."""
    latest = (ARTIFACTS_DIR / "LATEST").read_text().strip()
    heads = read_heads(ARTIFACTS_DIR / f"{latest}.npz", read_card(latest)["feature_spec"])
    return StanceClassifier(latest, heads, {}, article_rules=rules)


PRO_US = {"washington": 0.8, "hedge": 0.1, "beijing": 0.05, "irrelevant": 0.05}


def test_article_score_applies_the_versions_rules() -> None:
    """The same predictions are scored by a version without the rule and refused by one with it."""
    texts = ["Washington and Beijing traded tariffs again.", "The truce held for another month."]
    preds = [Prediction("washington", PRO_US, 0.75, "en", "test")] * 2
    assert _classifier(()).article_score(texts, preds).score is not None
    assert _classifier((KOREA_MENTION,)).article_score(texts, preds).score is None
    named = ["Seoul joined the talks.", texts[1]]
    assert _classifier((KOREA_MENTION,)).article_score(named, preds).score is not None


def test_rules_are_part_of_the_head_file_and_its_version(tmp_path: Path) -> None:
    """A rule changes the head file's bytes, hence the version id, and is read back from it."""
    latest = (ARTIFACTS_DIR / "LATEST").read_text().strip()
    heads = _classifier(()).heads
    plain, ruled = heads_bytes(heads), heads_bytes(heads, None, (KOREA_MENTION,))
    assert version_of(plain) != version_of(ruled)
    (tmp_path / "ruled.npz").write_bytes(ruled)
    (tmp_path / "plain.npz").write_bytes(plain)
    assert read_article_rules(tmp_path / "ruled.npz") == (KOREA_MENTION,)
    assert read_article_rules(tmp_path / "plain.npz") == ()
    assert read_article_rules(ARTIFACTS_DIR / f"{latest}.npz") in ((), (KOREA_MENTION,))
    with np.load(tmp_path / "ruled.npz") as data:
        assert "article_rules" in data.files
