"""Change points with a stated error rate: which stance series moved beyond sampling noise.

For each series (one relevant article = one score, one calendar day each) and the last complete
day ``T``:

1. The start is the day of the scan window (the last ``scan_days`` days) where one break best
   splits the article scores of the last ``baseline_days + scan_days`` days into two levels
   (least squares: the l2 segment cost, breaks only at day boundaries).
2. A two-sample t-test (pooled variance) compares the articles from the start to ``T`` (after)
   with the ``baseline_days`` before the start (before). Because the start was searched for,
   the p-value is multiplied by the ``scan_days`` candidate starts (Bonferroni): it stays valid
   whatever the search picked.
3. Benjamini–Hochberg across every series tested in the same run keeps the expected share of
   false alerts among the alerts at most ``fdr``.

A series is tested only with at least ``min_after`` articles after and ``min_before`` before the
start; an alert also needs a change of at least ``min_delta`` (stance points), so a huge series
cannot alert on a shift too small to matter.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

import numpy as np

from flows.alerts.tdist import t_two_sided_p


@dataclass(frozen=True)
class DetectConfig:
    """The detector's knobs (see the module docstring)."""

    scan_days: int = 7
    baseline_days: int = 28
    min_after: int = 10
    min_before: int = 20
    min_delta: float = 0.1
    fdr: float = 0.03


@dataclass(frozen=True)
class Series:
    """One stance series: its id, display name and the day and score of each relevant article."""

    kind: str
    key: str
    name: str
    days: np.ndarray  # datetime64[D], sorted
    scores: np.ndarray
    article_ids: tuple[str, ...] = ()

    @property
    def ident(self) -> tuple[str, str]:
        """(kind, key)."""
        return self.kind, self.key


@dataclass(frozen=True)
class Outcome:
    """The outcome of testing one series: start, both sides, z, p (scan-corrected)."""

    series: Series
    start: date
    before: np.ndarray
    after: np.ndarray
    z: float
    p: float
    q: float = 1.0
    after_ids: frozenset[str] = field(default_factory=frozenset)
    before_ids: frozenset[str] = field(default_factory=frozenset)

    @property
    def delta(self) -> float:
        """Mean after minus mean before."""
        return float(self.after.mean() - self.before.mean())


def _day(value: date) -> np.datetime64:
    """A date as numpy datetime64[D]."""
    return np.datetime64(value.isoformat(), "D")


def locate_start(series: Series, through: date, cfg: DetectConfig) -> date:
    """The most likely start of a level change: the day boundary of the scan window that splits the
    window's articles into two segments of least total squared error (ruptures' l2 cost)."""
    first_scan = through - timedelta(days=cfg.scan_days - 1)
    lo = _day(first_scan - timedelta(days=cfg.baseline_days))
    mask = (series.days >= lo) & (series.days <= _day(through))
    days, scores = series.days[mask], series.scores[mask]
    candidates = [
        (int(np.searchsorted(days, _day(first_scan + timedelta(days=k)))), first_scan + timedelta(days=k))
        for k in range(cfg.scan_days)
    ]
    candidates = [(i, day) for i, day in candidates if 0 < i < scores.size]
    if not candidates:
        return first_scan
    return min(candidates, key=lambda c: _sse(scores[: c[0]]) + _sse(scores[c[0] :]))[1]


def _sse(segment: np.ndarray) -> float:
    """The l2 cost of a segment: its squared deviations from its mean (ruptures' CostL2, which
    this replaced: importing ruptures took 1.7 s of every run's start)."""
    return float(segment.var() * segment.size)


def check_series(series: Series, through: date, cfg: DetectConfig) -> Outcome | None:
    """Outcome one series as of the complete day ``through``; None when either side is too small."""
    start = locate_start(series, through, cfg)
    after_mask = (series.days >= _day(start)) & (series.days <= _day(through))
    before_mask = (series.days >= _day(start - timedelta(days=cfg.baseline_days))) & (
        series.days < _day(start)
    )
    after, before = series.scores[after_mask], series.scores[before_mask]
    if after.size < cfg.min_after or before.size < cfg.min_before:
        return None
    z, p = t_test(after, before)
    ids = np.asarray(series.article_ids, dtype=object)
    after_ids, before_ids = (
        frozenset(ids[m]) if ids.size else frozenset() for m in (after_mask, before_mask)
    )
    return Outcome(series, start, before, after, z, min(1.0, p * cfg.scan_days), 1.0, after_ids, before_ids)


def t_test(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Student's t statistic and two-sided p-value of mean(a) − mean(b), pooled variance: with no
    change both sides share one spread, which the many baseline articles estimate well (Welch's
    per-side variance from ten articles made the tails far too light on these bimodal scores)."""
    if np.var(a) == 0 and np.var(b) == 0:
        return (0.0, 1.0) if a.mean() == b.mean() else (float("inf"), 0.0)
    df = a.size + b.size - 2
    pooled = ((a.size - 1) * np.var(a, ddof=1) + (b.size - 1) * np.var(b, ddof=1)) / df
    t = float((a.mean() - b.mean()) / np.sqrt(pooled * (1 / a.size + 1 / b.size)))
    return t, t_two_sided_p(t, df)


def benjamini_hochberg(p_values: Sequence[float]) -> list[float]:
    """BH-adjusted q-values in the input order (monotone, at most 1)."""
    p = np.asarray(p_values, dtype=float)
    if p.size == 0:
        return []
    order = np.argsort(p)
    ranked = p[order] * p.size / np.arange(1, p.size + 1)
    q = np.minimum.accumulate(ranked[::-1])[::-1].clip(max=1.0)
    out = np.empty_like(q)
    out[order] = q
    return [float(v) for v in out]


def detect(series: Sequence[Series], through: date, cfg: DetectConfig) -> tuple[list[Outcome], int]:
    """The significant shifts among ``series`` as of ``through`` (strongest first); how many were tested."""
    tested = [t for t in (check_series(s, through, cfg) for s in series) if t is not None]
    qs = benjamini_hochberg([t.p for t in tested])
    found = [
        replace(t, q=q)
        for t, q in zip(tested, qs, strict=True)
        if q <= cfg.fdr and abs(t.delta) >= cfg.min_delta
    ]
    return sorted(found, key=lambda t: (-abs(t.z), t.series.ident)), len(tested)


def consolidate(found: Sequence[Outcome], overlap: float = 0.5) -> list[tuple[Outcome, list[Outcome]]]:
    """Group shifts carried by the same articles: each group's strongest test leads, the others are
    listed with it (a shift in one outlet also moves its country, kind, language and topics)."""
    groups: list[tuple[Outcome, list[Outcome]]] = []
    for outcome in found:
        for lead, related in groups:
            same_way = np.sign(lead.delta) == np.sign(outcome.delta)
            if same_way and shared(lead.after_ids, outcome.after_ids) >= overlap:
                related.append(outcome)
                break
        else:
            groups.append((outcome, []))
    return groups


def shared(a: frozenset[str], b: frozenset[str]) -> float:
    """The share of the smaller set's articles that the other set also holds."""
    if not a or not b:
        return 0.0
    return len(a & b) / min(len(a), len(b))
