"""The English head's word lexicon: TF-IDF identical to scikit-learn's, stored and reloaded exactly."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from models.heads import LinearHead
from models.lexicon import Lexicon, tokens
from models.store import heads_bytes, read_heads

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
