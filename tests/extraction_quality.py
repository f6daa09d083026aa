"""Extraction quality: the article-extraction benchmark's word-4-gram metric.

The benchmark (Scrapinghub, MIT) compares the multiset of word 4-grams of the extracted text
with the ground truth's: per page TP/FP/FN shares, then mean precision and mean recall over
pages, and F1 as their harmonic mean.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

_TOKEN_RE = re.compile(r"\w+")


def shingle_match(true: str, pred: str, n: int = 4) -> tuple[float, float, float]:
    """The benchmark's TP/FP/FN over word 4-gram multisets, normalised to sum to 1."""

    def grams(text: str) -> Counter[tuple[str, ...]]:
        toks = _TOKEN_RE.findall(text or "")
        return Counter(tuple(toks[i : i + n]) for i in range(max(1, len(toks) - n + 1)) if toks)

    t, p = grams(true), grams(pred)
    tp = sum((t & p).values())
    fp, fn = sum(p.values()) - tp, sum(t.values()) - tp
    total = tp + fp + fn
    return (tp / total, fp / total, fn / total) if total else (0.0, 0.0, 0.0)


def benchmark_metrics(matches: Sequence[tuple[float, float, float]]) -> dict[str, float]:
    """Mean per-page precision and recall, and their harmonic mean, as the benchmark reports."""

    def ratio(num: float, other: float, fp: float, fn: float) -> float:
        if fp == fn == 0:
            return 1.0
        return 0.0 if num == other == 0 else num / (num + other)

    precisions = [ratio(tp, fp, fp, fn) for tp, fp, fn in matches if tp + fp > 0]
    recalls = [ratio(tp, fn, fp, fn) for tp, fp, fn in matches if tp + fn > 0]
    precision = sum(precisions) / len(precisions)
    recall = sum(recalls) / len(recalls)
    return {"precision": precision, "recall": recall, "f1": 2 * precision * recall / (precision + recall)}
