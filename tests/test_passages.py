"""Segmentation of article text into passages, and per-passage language detection."""

from __future__ import annotations

from pathlib import Path

import pytest

from models.language import detect_language
from models.passages import Passage, estimate_tokens, segment

SEED = Path(__file__).resolve().parent.parent / "seeds" / "seed_article.txt"


def _check_offsets(text: str, passages: list[Passage]) -> None:
    """Offsets are exact, ordered, non-overlapping, trimmed, and ordinals count from 0."""
    previous_end = 0
    for i, p in enumerate(passages):
        assert p.ordinal == i
        assert text[p.start : p.end] == p.text
        assert p.start >= previous_end
        assert p.text == p.text.strip() and p.text
        previous_end = p.end


@pytest.mark.parametrize("text", ["", "   ", "\n\n \n\t\n"])
def test_empty_text_has_no_passages(text: str) -> None:
    assert segment(text) == []


def test_seed_article_paragraphs_keep_offsets_and_fit() -> None:
    text = SEED.read_text(encoding="utf-8")
    passages = segment(text)
    _check_offsets(text, passages)
    assert all(estimate_tokens(p.text) <= 200 for p in passages)
    # every non-blank character of the article is inside some passage
    covered = "".join(p.text for p in passages)
    assert sum(not c.isspace() for c in covered) == sum(not c.isspace() for c in text)
    # the subheading is merged into the paragraph it introduces, not left alone
    heading = next(p for p in passages if p.text.startswith("Seoul stakes its future on Washington"))
    assert "Lee’s administration now faces" in heading.text


def test_short_paragraphs_merge_with_the_next_one() -> None:
    text = "Heading\n\nA body paragraph that is clearly long enough to stand alone as a passage here.\n"
    passages = segment(text, min_chars=40)
    assert len(passages) == 1
    assert passages[0].text.startswith("Heading\n\nA body")
    _check_offsets(text, passages)


def test_trailing_short_paragraph_joins_the_previous_one() -> None:
    text = "A body paragraph that is clearly long enough to stand alone as a passage here.\n\nThe end."
    passages = segment(text, min_chars=40)
    assert len(passages) == 1 and passages[0].text.endswith("The end.")


def test_one_huge_paragraph_is_split_at_sentence_ends() -> None:
    sentence = "The U.S. and Mr. Kim met in Seoul to discuss the alliance with Washington. "
    text = sentence * 80
    passages = segment(text, max_tokens=100)
    assert len(passages) > 5
    _check_offsets(text, passages)
    for p in passages:
        assert estimate_tokens(p.text) <= 100
        assert p.text.endswith("Washington.")  # never cut inside a sentence or after "U.S."
        assert p.text.startswith("The U.S.")


def test_cjk_without_spaces_is_split_at_full_stops() -> None:
    text = "韩国应坚定站在美国一边，不再迁就中国。" * 40
    passages = segment(text, max_tokens=60)
    assert len(passages) > 1
    _check_offsets(text, passages)
    assert all(p.text.endswith("。") for p in passages)
    assert all(estimate_tokens(p.text) <= 60 for p in passages)


def test_cjk_without_any_punctuation_is_still_cut_to_size() -> None:
    text = "韩国应坚定站在美国一边不再迁就中国" * 50
    passages = segment(text, max_tokens=50)
    assert len(passages) > 1
    _check_offsets(text, passages)
    assert "".join(p.text for p in passages) == text
    assert all(estimate_tokens(p.text) <= 50 for p in passages)


def test_korean_sentence_ends_without_space() -> None:
    text = "한국은 미국과의 동맹을 확고히 해야 한다.중국은 반발했다." * 30
    passages = segment(text, max_tokens=40)
    _check_offsets(text, passages)
    assert all(p.text.endswith("다.") for p in passages)


def test_space_free_run_longer_than_the_limit_is_cut() -> None:
    text = "https://example.org/" + "x" * 5000
    passages = segment(text, max_tokens=50)
    _check_offsets(text, passages)
    assert "".join(p.text for p in passages) == text
    assert all(estimate_tokens(p.text) <= 50 for p in passages)


def test_hard_wrapped_lines_join_their_paragraph() -> None:
    text = (
        "Seoul has been moving closer to Washington on security and\n"
        "supply chains, officials said on Tuesday in a long statement.\n\n"
        "A second paragraph that also is long enough to be its own passage here.\n"
    )
    passages = segment(text, min_chars=20)
    assert len(passages) == 2
    assert passages[0].text.endswith("statement.")
    _check_offsets(text, passages)


def test_windows_line_endings_are_trimmed() -> None:
    text = (
        "First paragraph, long enough to stand alone as a passage.\r\n\r\n"
        "Second paragraph, also long enough.\r\n"
    )
    passages = segment(text, min_chars=10)
    assert [p.text for p in passages] == [
        "First paragraph, long enough to stand alone as a passage.",
        "Second paragraph, also long enough.",
    ]


def test_bad_limit_is_refused() -> None:
    with pytest.raises(ValueError, match="max_tokens"):
        segment("text", max_tokens=2)


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("South Korea is aligning with the United States.", "en"),
        ("Seoul stakes its future on Washington", "en"),
        ("한국은 미국과 중국 사이에서 균형을 유지해야 한다.", "ko"),
        ("韩国应坚定站在美国一边。", "zh"),
        ("韓國政府親美親日的路線是錯誤的。", "zh"),
        ("日本の首相は韓国の大統領と会談した。", "ja"),
        ("La Corée du Sud et la Chine ont signé un accord pour le commerce.", "other"),
        ("Die Regierung in Seoul will mit China und den USA gute Beziehungen.", "other"),
        ("2025 — 12 — 10", "und"),
        ("", "und"),
        ("Seoul (首尔) is the capital of the Republic of Korea.", "en"),
        ("이재명 대통령은 習近平 주석과 만났다.", "ko"),
    ],
)
def test_language_by_script(text: str, lang: str) -> None:
    assert detect_language(text) == lang
