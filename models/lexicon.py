"""Word or character features beside the embeddings: a TF-IDF lexicon fitted on a head's training texts.

Frozen sentence embeddings place a passage by topic; who presses whom is often in single
words ("ROK", "hegemony", "alliance", "decoupling"). The lexicon gives a head those words.
It reproduces scikit-learn's ``TfidfVectorizer(min_df=2, sublinear_tf=True)`` (lowercase,
``\\b\\w\\w+\\b`` tokens, smoothed idf, 1 + log tf, L2-normalised rows) in plain numpy, so
scoring never imports scikit-learn; a test checks the two agree. With ``analyzer="char"`` the
terms are character 1–3-grams of the lower-cased text with runs of whitespace collapsed (like
``TfidfVectorizer(analyzer="char", ngram_range=(1, 3))``): Korean and Chinese have no spaces
between many words, and particles and negators (않, 不) are single characters.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

TOKEN = re.compile(r"(?u)\b\w\w+\b")
_SPACES = re.compile(r"\s+")
ANALYZERS: tuple[str, ...] = ("word", "char")


def tokens(text: str) -> list[str]:
    """Lower-cased word tokens of two or more word characters."""
    return TOKEN.findall(text.lower())


def char_grams(text: str, longest: int = 3) -> list[str]:
    """Character 1..``longest``-grams of the lower-cased text, whitespace runs collapsed to one space."""
    clean = _SPACES.sub(" ", text.lower())
    return [clean[i : i + n] for n in range(1, longest + 1) for i in range(len(clean) - n + 1)]


def terms(text: str, analyzer: str) -> list[str]:
    """The text's terms under ``analyzer`` (``word`` or ``char``)."""
    if analyzer not in ANALYZERS:
        raise ValueError(f"unknown analyzer {analyzer!r}; expected one of {', '.join(ANALYZERS)}")
    return tokens(text) if analyzer == "word" else char_grams(text)


@dataclass(frozen=True)
class Lexicon:
    """A sorted vocabulary with the inverse document frequency of each term, and its analyzer."""

    vocabulary: tuple[str, ...]
    idf: np.ndarray
    analyzer: str = "word"

    @classmethod
    def fit(
        cls, texts: Sequence[str], min_df: int = 2, analyzer: str = "word", max_terms: int | None = None
    ) -> Lexicon:
        """Keep terms found in at least ``min_df`` texts (at most ``max_terms``, the most frequent first).

        idf = ln((1 + n) / (1 + df)) + 1; ties in frequency are broken by the term itself.
        """
        df: Counter[str] = Counter()
        for text in texts:
            df.update(set(terms(text, analyzer)))
        kept = sorted((t for t, count in df.items() if count >= min_df), key=lambda t: (-df[t], t))
        vocabulary = tuple(sorted(kept[:max_terms] if max_terms is not None else kept))
        n = len(texts)
        idf = np.array([np.log((1 + n) / (1 + df[t])) + 1.0 for t in vocabulary], dtype=np.float64)
        return cls(vocabulary, idf, analyzer)

    @property
    def dim(self) -> int:
        """Number of features (terms)."""
        return len(self.vocabulary)

    def transform(self, texts: Sequence[str]) -> np.ndarray:
        """(n, dim) rows of (1 + ln tf) × idf, L2-normalised; unknown words are ignored."""
        index = {term: k for k, term in enumerate(self.vocabulary)}
        out = np.zeros((len(texts), self.dim), dtype=np.float64)
        for row, text in enumerate(texts):
            counts = Counter(t for t in terms(text, self.analyzer) if t in index)
            for term, tf in counts.items():
                out[row, index[term]] = (1.0 + np.log(tf)) * self.idf[index[term]]
            norm = np.linalg.norm(out[row])
            if norm > 0:
                out[row] /= norm
        return out
