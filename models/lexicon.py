"""Word features beside the embeddings: a TF-IDF lexicon fitted on a head's training texts.

Frozen sentence embeddings place a passage by topic; who presses whom is often in single
words ("ROK", "hegemony", "alliance", "decoupling"). The lexicon gives a head those words.
It reproduces scikit-learn's ``TfidfVectorizer(min_df=2, sublinear_tf=True)`` (lowercase,
``\\b\\w\\w+\\b`` tokens, smoothed idf, 1 + log tf, L2-normalised rows) in plain numpy, so
scoring never imports scikit-learn; a test checks the two agree.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

TOKEN = re.compile(r"(?u)\b\w\w+\b")


def tokens(text: str) -> list[str]:
    """Lower-cased word tokens of two or more word characters."""
    return TOKEN.findall(text.lower())


@dataclass(frozen=True)
class Lexicon:
    """A sorted vocabulary with the inverse document frequency of each term."""

    vocabulary: tuple[str, ...]
    idf: np.ndarray

    @classmethod
    def fit(cls, texts: Sequence[str], min_df: int = 2) -> Lexicon:
        """Keep terms found in at least ``min_df`` texts; idf = ln((1 + n) / (1 + df)) + 1."""
        df: Counter[str] = Counter()
        for text in texts:
            df.update(set(tokens(text)))
        vocabulary = tuple(sorted(t for t, count in df.items() if count >= min_df))
        n = len(texts)
        idf = np.array([np.log((1 + n) / (1 + df[t])) + 1.0 for t in vocabulary], dtype=np.float64)
        return cls(vocabulary, idf)

    @property
    def dim(self) -> int:
        """Number of features (terms)."""
        return len(self.vocabulary)

    def transform(self, texts: Sequence[str]) -> np.ndarray:
        """(n, dim) rows of (1 + ln tf) × idf, L2-normalised; unknown words are ignored."""
        index = {term: k for k, term in enumerate(self.vocabulary)}
        out = np.zeros((len(texts), self.dim), dtype=np.float64)
        for row, text in enumerate(texts):
            counts = Counter(t for t in tokens(text) if t in index)
            for term, tf in counts.items():
                out[row, index[term]] = (1.0 + np.log(tf)) * self.idf[index[term]]
            norm = np.linalg.norm(out[row])
            if norm > 0:
                out[row] /= norm
        return out
