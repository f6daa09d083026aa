"""Direction cues (negation scope, modals) and the character lexicon of the Korean/Chinese head."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from models.cues import (
    CUE_NAMES,
    VOICE_DIRECTION_NAMES,
    VOICE_NAMES,
    cue_features,
    voice_block,
    voice_direction_block,
)
from models.heads import LinearHead, head_features
from models.lexicon import Lexicon
from models.registry import heads_bytes, read_heads


def cues(text: str) -> dict[str, float]:
    return dict(zip(CUE_NAMES, cue_features([text])[0], strict=True))


def test_negated_modal_and_its_scope_in_three_languages() -> None:
    for text in (
        "Seoul should not join the US containment of China.",
        "한국은 미국의 대중 견제에 동참해서는 안 된다.",
        "韩国不应加入美国遏制中国的同盟。",
    ):
        got = cues(text)
        assert got["neg_modal"] == 1.0 and got["neg_scope_us"] == 1.0, text
    for text in ("Seoul should join the US containment of China.", "韩国应当加入美国遏制中国的同盟。"):
        got = cues(text)
        assert got["modal"] == 1.0 and got["neg_modal"] == 0.0 and got["neg_scope_us"] == 0.0, text


def test_negation_outside_the_clause_is_not_in_scope() -> None:
    got = cues("It was not a surprise, but Seoul joined the alliance's drills.")
    assert got["negation"] == 1.0 and got["toward_us"] == 1.0 and got["neg_scope_us"] == 0.0
    assert cues("Seoul did not join the alliance's drills.")["neg_scope_us"] == 1.0


def test_voice_block_marks_the_voice_and_a_quoted_warning() -> None:
    block = voice_block(
        ["China warned Seoul it would pay a price.", "Seoul is balancing."], ["beijing", "author"]
    )
    names = dict(zip(VOICE_NAMES, block[0], strict=True))
    assert names["voice_beijing"] == 1.0 and names["voice_beijing_warning"] == 1.0
    assert dict(zip(VOICE_NAMES, block[1], strict=True))["voice_author"] == 1.0


def test_voice_direction_block_separates_who_names_the_move() -> None:
    texts = ["Seoul should join the trilateral alliance.", "中方表示，韩国不应加入美日韩同盟。"]
    voices = ["author", "beijing"]
    block = voice_direction_block(cue_features(texts), voices)
    author = dict(zip(VOICE_DIRECTION_NAMES, block[0], strict=True))
    beijing = dict(zip(VOICE_DIRECTION_NAMES, block[1], strict=True))
    assert author["voice_author_toward_us"] == 1.0 and author["voice_author_neg_scope_us"] == 0.0
    assert beijing["voice_beijing_toward_us"] == 1.0 and beijing["voice_beijing_neg_scope_us"] == 1.0
    assert block[0].sum() == 1.0 and beijing["voice_author_toward_us"] == 0.0
    x = head_features(np.zeros((2, 3)), texts, None, ("cues", "voice", "voice_direction"))
    assert x.shape == (2, 3 + len(CUE_NAMES) + len(VOICE_NAMES) + len(VOICE_DIRECTION_NAMES))
    np.testing.assert_array_equal(x[:, -len(VOICE_DIRECTION_NAMES) :], block)


def test_blame_cues_tell_whom_a_passage_blames_in_three_languages() -> None:
    against_us = [
        "Seoul has become a pawn of US hegemony.",
        "韩国甘当美国的棋子。",
        "미국 패권의 하수인이 되었다.",
    ]
    against_cn = ["Beijing's coercion must not make Seoul kowtow.", "사대 외교와 굴종을 끝내야 한다."]
    for text in against_us:
        assert cues(text)["blame_us"] == 1.0 and cues(text)["blame_cn"] == 0.0, text
    for text in against_cn:
        assert cues(text)["blame_cn"] == 1.0 and cues(text)["blame_us"] == 0.0, text
    neutral = cues("Seoul and Beijing held talks on trade.")
    assert neutral["blame_us"] == neutral["blame_cn"] == 0.0


def test_rhetoric_block_is_the_two_blame_flags() -> None:
    texts = ["Seoul is a pawn of US hegemony.", "Stop kowtowing to Beijing's coercion."]
    x = head_features(np.zeros((2, 1)), texts, None, ("rhetoric",))
    np.testing.assert_array_equal(x[:, 1:], [[1.0, 0.0], [0.0, 1.0]])


def test_char_lexicon_matches_scikit_learn_char_ngrams() -> None:
    texts = ["韩国应当保持平衡", "한국은 균형을  잡아야 한다", "韩国不应加入", "균형 외교", "Seoul  Beijing"]
    reference = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), min_df=2, sublinear_tf=True)
    reference.fit(texts)
    ours = Lexicon.fit(texts, min_df=2, analyzer="char")
    assert list(ours.vocabulary) == list(reference.get_feature_names_out())
    np.testing.assert_allclose(ours.idf, reference.idf_)
    np.testing.assert_allclose(ours.transform(texts), reference.transform(texts).toarray())


def test_head_features_append_lexicon_cues_and_voice() -> None:
    texts = ["中方表示，韩国不应加入美国的导弹防御体系。"]
    lexicon = Lexicon.fit(texts * 2, analyzer="char")
    x = head_features(np.zeros((1, 3)), texts, lexicon, ("cues", "voice"))
    assert x.shape == (1, 3 + lexicon.dim + len(CUE_NAMES) + len(VOICE_NAMES))
    assert x[0, -len(VOICE_NAMES) + 1] == 1.0  # voice_beijing


def test_head_with_char_lexicon_extras_and_language_temperatures_round_trips(tmp_path: Path) -> None:
    texts = [
        "中方表示，韩国不应加入。",
        "한국은 균형을 잡아야 한다.",
        "韩国应当保持平衡。",
        "한국은 동맹을 지켜야 한다.",
    ]
    lexicon = Lexicon.fit(texts, min_df=1, analyzer="char", max_terms=20)
    assert lexicon.dim == 20
    dim = 3 + lexicon.dim + len(VOICE_NAMES)
    rng = np.random.default_rng(1)
    head = LinearHead(
        rng.normal(size=(4, dim)), rng.normal(size=4), 1.5, lexicon, ("voice",), {"ko": 0.7, "zh": 2.0}
    )
    (tmp_path / "h.npz").write_bytes(heads_bytes({"en": head, "multilingual": head}))
    loaded = read_heads(tmp_path / "h.npz")["multilingual"]
    assert loaded.lexicon is not None and loaded.lexicon.analyzer == "char"
    assert loaded.extras == ("voice",) and loaded.temperatures == {"ko": 0.7, "zh": 2.0}
    embedded = rng.normal(size=(len(texts), 3))
    np.testing.assert_allclose(loaded.probs_for(embedded, texts), head.probs_for(embedded, texts))
    zh = head.probs(head.features(embedded[:1], texts[:1]), ["zh"])
    assert not np.allclose(zh, head.probs(head.features(embedded[:1], texts[:1]), ["ko"]))
