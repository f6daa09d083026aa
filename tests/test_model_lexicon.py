"""The English head's word lexicon: TF-IDF identical to scikit-learn's, stored and reloaded exactly."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from models.heads import LinearHead
from models.lexicon import Lexicon, tokens
from models.registry import heads_bytes, read_heads

TEXTS = [
    "Seoul must stand with Washington; the alliance comes first.",
    "Beijing warned the ROK against THAAD and U.S. hegemony.",
    "The ROK should avoid taking sides between Washington and Beijing, Beijing says.",
    "",
    "서울은 워싱턴과 베이징 사이에서 균형을 잡아야 한다.",
    "韩国 应该 在 美国 和 中国 之间 保持 平衡",
    "Alliance, alliance, alliance: hegemony is the word in Beijing.",
]


def test_lexicon_matches_scikit_learn_tfidf() -> None:
    """Vocabulary, idf and the normalised rows equal TfidfVectorizer(min_df=2, sublinear_tf=True)."""
    reference = TfidfVectorizer(min_df=2, sublinear_tf=True).fit(TEXTS)
    ours = Lexicon.fit(TEXTS, min_df=2)
    assert list(ours.vocabulary) == list(reference.get_feature_names_out())
    np.testing.assert_allclose(ours.idf, reference.idf_)
    unseen = ["Hegemony! The ALLIANCE and Beijing, Beijing, Beijing.", "nothing known here"]
    np.testing.assert_allclose(ours.transform(TEXTS + unseen), reference.transform(TEXTS + unseen).toarray())


def test_unknown_words_give_a_zero_row() -> None:
    """A text with no vocabulary word contributes no word features (and no division by zero)."""
    lexicon = Lexicon.fit(TEXTS)
    row = lexicon.transform(["zebra quokka"])
    assert row.shape == (1, lexicon.dim) and not row.any()


def test_tokens_keep_hangul_and_han_runs() -> None:
    """Word characters of any script count; single characters and punctuation do not."""
    assert tokens("U.S. ROK 서울은 韩国, a") == ["rok", "서울은", "韩国"]


def test_lexicon_round_trips_through_the_artifact(tmp_path: Path) -> None:
    """Heads with and without a lexicon reload with the same vocabulary, idf and probabilities."""
    lexicon = Lexicon.fit(TEXTS)
    rng = np.random.default_rng(0)
    en = LinearHead(rng.normal(size=(4, 3 + lexicon.dim)), rng.normal(size=4), 0.7, lexicon)
    ml = LinearHead(rng.normal(size=(4, 3)), rng.normal(size=4), 1.2)
    path = tmp_path / "heads.npz"
    path.write_bytes(heads_bytes({"en": en, "multilingual": ml}))
    loaded = read_heads(path)
    assert loaded["multilingual"].lexicon is None
    assert loaded["en"].lexicon is not None and loaded["en"].lexicon.vocabulary == lexicon.vocabulary
    embedded = rng.normal(size=(2, 3))
    texts = ["Beijing and the alliance", "ROK hegemony"]
    np.testing.assert_allclose(loaded["en"].probs_for(embedded, texts), en.probs_for(embedded, texts))
    assert heads_bytes(loaded) == heads_bytes({"en": en, "multilingual": ml})


def test_lexical_head_learns_its_vocabulary_from_the_training_rows_only() -> None:
    """fit_calibrated fits the English head's lexicon on ``train`` rows; held-out words stay unknown."""
    from models.build import BuildConfig, Dataset, fit_calibrated
    from models.heads import HEADS
    from models.labels import LABEL_INDEX, LABELS
    from models.training import Example

    words = {"washington": "alliance drills", "hedge": "balance both", "beijing": "hegemony warned"}
    words["irrelevant"] = "tax album"
    examples = [
        Example(f"d{k}-{i}", f"Seoul {words[label]} {i}", label, "en", "dev", f"url-{k}-{i}")
        for k, label in enumerate(LABELS)
        for i in range(4)
    ]
    examples += [Example(f"h{i}", "quokka zebra", "hedge", "en", "dev", f"held-{i}") for i in range(2)]
    labels = np.array([LABEL_INDEX[e.label] for e in examples])
    rng = np.random.default_rng(1)
    data = Dataset(examples, labels)
    spec = next(h for h in HEADS if h.lexical)
    data.rows[spec.name] = np.arange(len(examples))
    data.features[spec.name] = rng.normal(size=(len(examples), 5))
    config = BuildConfig(inner_folds=2, c_grid=(1.0,), seed_weights=(1.0,))
    head, info = fit_calibrated(data, spec, np.arange(len(examples) - 2), config)
    assert head.lexicon is not None and info["lexicon_terms"] == head.lexicon.dim
    assert {"hegemony", "alliance", "seoul"} <= set(head.lexicon.vocabulary)
    assert "quokka" not in head.lexicon.vocabulary
    from models.cues import CUE_NAMES, VOICE_DIRECTION_NAMES, VOICE_NAMES

    assert config.extras_of(spec.name) == ("cues", "voice", "voice_direction")
    blocks = len(CUE_NAMES) + len(VOICE_NAMES) + len(VOICE_DIRECTION_NAMES)
    assert head.coef.shape[1] == 5 + head.lexicon.dim + blocks
    head_all, _ = fit_calibrated(data, spec, np.arange(len(examples)), config)
    assert head_all.lexicon is not None and "quokka" in head_all.lexicon.vocabulary


def test_committed_model_routes_english_through_word_features() -> None:
    """The committed English head reads words, the multilingual head character n-grams."""
    from models.registry import ARTIFACTS_DIR, read_card, read_heads, resolve_version

    version = resolve_version(None)
    heads = read_heads(ARTIFACTS_DIR / f"{version}.npz")
    en, ml = heads["en"], heads["multilingual"]
    assert en.lexicon is not None and en.lexicon.analyzer == "word"
    assert ml.lexicon is not None and ml.lexicon.analyzer == "char"
    assert {"不", "않"} <= set(ml.lexicon.vocabulary)  # negators, single characters
    assert {"不应", "不要", "不能"} & set(ml.lexicon.vocabulary)
    assert read_card(version)["heads"]["en"]["lexicon_terms"] == en.lexicon.dim
    assert {"rok", "hegemony", "alliance"} <= set(en.lexicon.vocabulary)
