"""Article-level aggregation of passage predictions: a pure function, no model involved.

An article's score is the relevance-weighted mean of its passages' scores, where a
passage's weight is ``1 − P(irrelevant)`` and its score ``P(washington) − P(beijing)``.

Article relevance rule: an article is on the axis only if its relevant passages (top label not
``irrelevant``) make up at least ``MIN_RELEVANT_SHARE`` (0.2) of its passages. Below that, one or
two stray passages of an off-topic page would otherwise give it a score and put it into the stance
index; such an article gets ``score=None``, label ``irrelevant`` and no evidence, but keeps its
measured ``relevant_share``. The threshold was chosen by measurement (model card field
``article_relevance_rule``): on 181 off-topic benchmark pages it cut those judged relevant from 29
to 11 (no threshold in 0.15–0.2 did better without reaching into clearly Korea-related articles),
while the seed article (share 0.86) stays relevant.

Korea mention (model versions whose head file lists ``korea_mention`` among its ``article_rules``,
see ``models.mentions``): with ``mentions`` (one flag per passage: does it name South Korea), an
article is also scored only if at least one of its relevant passages names Korea. On the 181
off-topic benchmark pages it leaves 1 of the 13 the share rule lets through (card of
stance-258c18d6e9e0), while the dev set's relevant passages name Korea themselves 87% of the time
in English, 98% in Chinese (an article needs one such passage).

Abstention: with ``min_confidence`` (the model card's ``abstention.threshold``, chosen out of
fold), a passage whose top probability is below it is ignored: it neither moves the score nor
counts toward the relevant share, and ``n_ignored`` says how many were left out.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from models.labels import LABELS

STANCES: tuple[str, ...] = ("washington", "hedge", "beijing")
"""The three labels that carry a position on the axis (all but ``irrelevant``)."""
MIN_RELEVANT_SHARE = 0.2
"""Least share of relevant passages for an article to be scored (see the module docstring)."""
RELEVANCE_RULE = f"relevant_share >= {MIN_RELEVANT_SHARE:g} and at least one relevant passage"
"""The article relevance rule in words (recorded in model cards)."""
KOREA_RULE = " and at least one relevant passage names South Korea (a Korean-language passage counts)"
"""What the ``korea_mention`` article rule adds to ``RELEVANCE_RULE`` (recorded in model cards)."""


class HasProbs(Protocol):
    """Anything with a ``probs`` mapping over ``LABELS`` (e.g. a classifier Prediction)."""

    @property
    def probs(self) -> Mapping[str, float]:
        """Probabilities over ``LABELS``."""
        ...


@dataclass(frozen=True)
class ArticleScore:
    """Stance of a whole article: score (None if nothing relevant), spread, share, label, evidence.

    ``stance_probs`` is the relevance-weighted mean of the passages' stance distributions (their
    probabilities with the irrelevant mass removed); ``label`` is its argmax, ``confidence`` its max.

    ``evidence`` items are ``{"ordinal", "label", "score", "weight"}`` dicts (JSON-ready).
    """

    score: float | None
    label: str
    confidence: float
    relevant_share: float
    spread: float | None
    n_passages: int
    evidence: list[dict[str, Any]] = field(default_factory=list)
    stance_probs: dict[str, float] = field(default_factory=dict)
    n_ignored: int = 0

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "score": self.score,
            "label": self.label,
            "confidence": self.confidence,
            "relevant_share": self.relevant_share,
            "spread": self.spread,
            "n_passages": self.n_passages,
            "evidence": [dict(e) for e in self.evidence],
            "stance_probs": dict(self.stance_probs),
            "n_ignored": self.n_ignored,
        }


def aggregate(
    predictions: Sequence[Mapping[str, float] | HasProbs],
    ordinals: Sequence[int] | None = None,
    *,
    top_k: int = 3,
    min_relevant_share: float = MIN_RELEVANT_SHARE,
    min_confidence: float = 0.0,
    mentions: Sequence[bool] | None = None,
) -> ArticleScore:
    """Combine per-passage probabilities (dicts over ``LABELS`` or Predictions) into an ArticleScore.

    Passages whose top probability is below ``min_confidence`` are ignored (counted in ``n_ignored``).
    With ``mentions`` (per passage: does it name South Korea), a relevant passage must name Korea.
    """
    if not 0.0 <= min_relevant_share <= 1.0:
        raise ValueError(f"min_relevant_share must be in [0, 1], got {min_relevant_share}")
    probs = [p.probs if hasattr(p, "probs") else p for p in predictions]
    if ordinals is None:
        ordinals = list(range(len(probs)))
    if len(ordinals) != len(probs):
        raise ValueError(f"{len(probs)} predictions but {len(ordinals)} ordinals")
    if mentions is not None and len(mentions) != len(probs):
        raise ValueError(f"{len(probs)} predictions but {len(mentions)} Korea-mention flags")
    for p in probs:
        missing = [label for label in LABELS if label not in p]
        if missing:
            raise ValueError(f"passage probabilities lack {', '.join(missing)}")
    kept = [i for i, p in enumerate(probs) if max(float(v) for v in p.values()) >= min_confidence]
    result = _combine([probs[i] for i in kept], [ordinals[i] for i in kept], top_k, min_relevant_share)
    named = mentions is None or any(mentions[i] and _top_label(probs[i]) != "irrelevant" for i in kept)
    if result.score is not None and not named:
        result = _unscored([probs[i] for i in kept], result.relevant_share)
    return replace(result, n_passages=len(probs), n_ignored=len(probs) - len(kept))


def _combine(
    probs: Sequence[Mapping[str, float]], ordinals: Sequence[int], top_k: int, min_relevant_share: float
) -> ArticleScore:
    """The article score of the passages kept (see ``aggregate``)."""
    if not probs:
        return ArticleScore(None, "irrelevant", 0.0, 0.0, None, 0)
    weights = [max(0.0, 1.0 - float(p["irrelevant"])) for p in probs]
    scores = [float(p["washington"]) - float(p["beijing"]) for p in probs]
    labels = [_top_label(p) for p in probs]
    relevant = [i for i, label in enumerate(labels) if label != "irrelevant"]
    share = len(relevant) / len(probs)
    total = sum(weights)
    if not relevant or total <= 0.0 or share < min_relevant_share - 1e-9:
        return _unscored(probs, share)
    mean = sum(w * s for w, s in zip(weights, scores, strict=True)) / total
    variance = sum(w * (s - mean) ** 2 for w, s in zip(weights, scores, strict=True)) / total
    stance = {name: sum(float(p[name]) for p in probs) / total for name in STANCES}
    label = max(STANCES, key=lambda name: stance[name])
    ranked = sorted(relevant, key=lambda i: (-abs(scores[i]) * weights[i], ordinals[i]))
    evidence = [
        {"ordinal": int(ordinals[i]), "label": labels[i], "score": scores[i], "weight": weights[i]}
        for i in ranked[:top_k]
    ]
    return ArticleScore(mean, label, stance[label], share, math.sqrt(variance), len(probs), evidence, stance)


def unscored_reason(relevant_share: float) -> str:
    """Why an article with this relevant share got no score, in words for a reader: too few
    relevant passages, else (the share passed) none of its relevant passages names Korea."""
    if relevant_share < MIN_RELEVANT_SHARE - 1e-9:
        return (
            f"{relevant_share:.0%} of its passages read as relevant, under the {MIN_RELEVANT_SHARE:.0%}"
            " an article needs"
        )
    return "none of its relevant passages names South Korea (the model version's Korea-mention rule)"


def _unscored(probs: Sequence[Mapping[str, float]], share: float) -> ArticleScore:
    """An article off the axis: no score, label irrelevant, its measured relevant share kept."""
    confidence = sum(float(p["irrelevant"]) for p in probs) / len(probs)
    return ArticleScore(None, "irrelevant", confidence, share, None, len(probs))


def _top_label(probs: Mapping[str, float]) -> str:
    """The most probable label (first in ``LABELS`` order on ties)."""
    return max(LABELS, key=lambda label: float(probs[label]))
