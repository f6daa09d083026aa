"""Who is speaking: the voice detector on its own cues in English, Korean and Chinese."""

from __future__ import annotations

import pytest

from flows.settings import SEEDS_DIR
from models.diagnostics import voice_accuracy
from models.registry import read_card, resolve_version
from models.training import default_dev_path
from models.voice import VOICES, detect_voice

CASES = [
    ("en", "The Global Times said Seoul would pay a price for joining the US missile shield.", "beijing"),
    ("en", "According to Xinhua, Seoul agreed to keep its China policy stable.", "beijing"),
    (
        "en",
        "A Chinese foreign ministry spokesperson warned Seoul not to cross the red line on Taiwan.",
        "beijing",
    ),
    ("en", "South Korea's foreign ministry said the alliance remains the bedrock of its diplomacy.", "seoul"),
    ("en", "The State Department urged Seoul to stand with Washington on export controls.", "washington"),
    ("en", "Analysts at a Seoul think tank argued that strategic ambiguity has run its course.", "other"),
    ("en", "Seoul should keep its options open between the two powers.", "author"),
    ("en", "Wang Yi: “Seoul cannot have it both ways.”", "beijing"),  # a colon and a curly quote, no verb
    ("en", "The White House, ‘a partner picks a side.’", "washington"),
    ("ko", "중국 외교부는 한국이 '하나의 중국' 원칙을 지켜야 한다고 밝혔다.", "beijing"),
    ("ko", "환구시보는 사평에서 한국이 대가를 치를 것이라고 경고했다.", "beijing"),
    ("ko", "대통령실은 한미동맹이 외교의 근간이라고 강조했다.", "seoul"),
    ("ko", "미 국무부는 한국이 대중 수출 통제에 동참해야 한다고 말했다.", "washington"),
    ("ko", "한국은 미중 사이에서 균형을 잡아야 한다.", "author"),
    ("zh", "中方表示，韩方应当恪守一个中国原则。", "beijing"),
    ("zh", "外交部发言人毛宁表示，台湾问题是中国内政。", "beijing"),
    ("zh", "韩国外交部表示，韩美同盟是韩国外交的基石。", "seoul"),
    ("zh", "白宫表示，美国希望韩国在芯片问题上与美方合作。", "washington"),
    ("zh", "韩国应当在中美之间保持平衡。", "author"),
]


@pytest.mark.parametrize(("lang", "text", "voice"), CASES)
def test_voice_from_the_texts_own_cues(lang: str, text: str, voice: str) -> None:
    assert detect_voice(text, lang) == voice


def test_every_voice_is_one_of_five() -> None:
    assert VOICES == ("author", "beijing", "seoul", "washington", "other")
    assert all(detect_voice(t, lang) in VOICES for lang, t, _ in CASES)


def test_dev_set_voice_accuracy_matches_the_committed_card() -> None:
    """The detector reads the dev set's hand-read voices at least as well as the card says."""
    dev = default_dev_path(SEEDS_DIR)
    assert dev is not None
    measured = voice_accuracy(dev)
    recorded = read_card(resolve_version(None))["voice"]
    for lang, figures in recorded["per_language"].items():
        assert measured["per_language"][lang]["accuracy"] >= figures["accuracy"] - 1e-6, lang
    assert measured["accuracy"] >= 0.75


def test_english_cue_filter_gives_the_answer_of_every_pattern() -> None:
    import json

    from flows.tools.demo_site import BENCH_DIR
    from models.voice import _EN_RE, _english_voice, _first_match

    lines = default_dev_path(SEEDS_DIR).read_text(encoding="utf-8").splitlines()
    dev = [json.loads(line)["text"] for line in lines]
    truth = json.loads((BENCH_DIR / "ground-truth.json").read_text(encoding="utf-8"))
    pages = [p for item in truth.values() for p in str(item.get("articleBody", "")).split("\n") if p.strip()]
    texts = [*dev, *pages, *(text for lang, text, _ in CASES if lang == "en")]
    quoted = [t for t in pages if "“" in t or '"' in t]
    assert len(dev) > 1000 and len(quoted) > 100  # real passages, many of them with quotation marks
    answers = [_first_match(_EN_RE, t) for t in texts]
    assert [_english_voice(t) for t in texts] == answers
    assert {"author", "beijing", "seoul", "washington", "other"} <= set(answers)
