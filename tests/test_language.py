"""models.language: the one script/language detector that passages, ingest and dedup share."""

from __future__ import annotations

import pytest

from flows.ingest import dedup
from flows.ingest.extract import page_language
from models.language import CJK_LANGUAGES, LANGUAGES, count_scripts, detect_language, script_language

EN_WITH_ZH_QUOTE = (
    "The editorial said the alliance was 韩国必须在中美之间做出选择并承担后果 and called it a mistake."
)

# (name, text, detect_language, script_language): ko, zh, ja, en, mixed scripts, empty
SAMPLE = [
    (
        "ko",
        "서울은 워싱턴과 베이징 사이에서 균형을 찾는다. 미국(美國)과 중국(中國) 모두 중요하다.",
        "ko",
        "ko",
    ),
    ("zh", "韩国政府表示，将在加强韩美同盟的同时维持与中国的经济合作，在两国之间保持平衡。", "zh", "zh"),
    ("zh-hant", "韓國政府表示，將在美中之間保持平衡，同時維持與中國的經濟合作。", "zh", "zh"),
    ("ja", "韓国政府は米国との同盟を強化しつつ、中国との関係も維持すると述べた。", "ja", "ja"),
    (
        "en",
        "Seoul is anchoring its future to the alliance with the United States, not to Beijing.",
        "en",
        "en",
    ),
    ("ko+hanja", "大韓民國 政府는 美國과 中國 사이에서 均衡을 追求한다고 밝혔다", "ko", "ko"),
    ("ko+kana", "한국 정부는 일본의 アニメ 산업과 협력하겠다고 밝혔다", "ko", "ko"),
    (
        "ko+en",
        "이재명 대통령은 경주에서 시진핑 주석과 만나 APEC 정상회의와 supply chain 협력을 논의했다.",
        "ko",
        "ko",
    ),
    ("zh+figures", "2025年12月10日 GDP 增长 5.2%，2026年 预计 3.1%，出口 1200 亿美元", "zh", "zh"),
    ("en+zh", "Seoul (首尔) is the capital of the Republic of Korea and its largest city.", "en", "en"),
    ("fr", "Séoul se tourne vers Washington au détriment de ses liens avec Pékin.", "other", None),
    ("figures", "12345 !!! ---", "und", None),
    ("empty", "", "und", None),
]


@pytest.mark.parametrize(("name", "text", "language", "script"), SAMPLE, ids=[s[0] for s in SAMPLE])
def test_the_three_former_detectors_agree(name: str, text: str, language: str, script: str | None) -> None:
    assert detect_language(text) == language  # passages: which encoder head
    assert script_language(text) == script  # ingest: the article's language
    assert page_language("<html><body></body></html>", text) == script  # extraction, no <html lang>
    grams = dedup.shingles(text)  # dedup: character 4-grams exactly when the text is ko/zh/ja
    by_character = bool(grams) and all(" " not in gram and len(gram) <= 4 for gram in grams)
    assert by_character == (script in CJK_LANGUAGES)
    assert language in LANGUAGES and (script is None or script == language)


def test_one_set_of_unicode_ranges() -> None:
    counts = count_scripts("가 ㄱㅏ 한 가")  # jamo, compatibility jamo, syllables
    assert (counts.hangul, counts.han, counts.kana) == (6, 0, 0)
    counts = count_scripts("㐀 中 豈 𠀀")  # extension A, unified, compatibility, extension B
    assert (counts.hangul, counts.han, counts.kana) == (0, 4, 0)
    counts = count_scripts("あ ア ㇰ ｱ")  # hiragana, katakana, phonetic extensions, halfwidth
    assert (counts.hangul, counts.han, counts.kana) == (0, 0, 4)
    assert count_scripts("Пекин and Seoul").letters == 5 + 3 + 5


@pytest.mark.parametrize(
    ("text", "script"),
    [
        ("Наши герои встретились с 習近平 в Пекине сегодня утром", None),  # a few CJK in Cyrillic
        (EN_WITH_ZH_QUOTE, None),  # a long quote, but English still has most letters
        ("Seoul, Washington agree tariff deal", None),  # Latin, but too few function words
        ("De regering van Zuid-Korea wil goede banden met China en de VS", None),
    ],
)
def test_no_confident_guess(text: str, script: str | None) -> None:
    assert script_language(text) is script


def test_only_the_first_20000_characters_are_read() -> None:
    assert script_language("한국 " * 10_000 + "Seoul is the capital of the country." * 1000) == "ko"
