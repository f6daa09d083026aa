"""The one statistics module of the report and the workbench: the stance index of a group-week,
its bootstrap interval (seeded, numpy), the minimum numbers of articles, and how a level or a change
may be put in words.

The rules, written once:

- a group-week gets an index (a point) from ``MIN_ARTICLES`` relevant scored articles;
- it gets a 95% interval (a band, a filled point) only from ``BAND_MIN`` articles; under that the
  point is hollow and no interval is printed anywhere;
- a level "leans" toward a side only when its interval excludes zero; a change is "beyond sampling
  noise" only when the interval of the change excludes zero (both sides need ``BAND_MIN``);
- the week in progress is provisional: drawn hollow and labelled "so far".
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

MIN_ARTICLES = 3
"""Fewest relevant scored articles a group-week needs before its index is shown or plotted."""
BAND_MIN = 8
"""Fewest relevant scored articles a group-week needs for an interval (band, filled point)."""
SO_FAR = "so far"
"""How the week in progress is labelled wherever it is shown."""
CHUNK_CELLS = 2_000_000
"""Resampled values drawn at once (bounds memory for large weeks)."""


@dataclass(frozen=True)
class Bootstrap:
    """How intervals are drawn: percentile bootstrap, ``resamples`` draws from a fresh seeded generator.

    Every interval starts from the same seed, so the same sample always gets the same interval
    (whichever group it stands for and in whatever order the report asks).
    """

    resamples: int = 1000
    seed: int = 20251201
    level: float = 0.95

    def rng(self) -> np.random.Generator:
        """A fresh generator from the seed."""
        return np.random.default_rng(self.seed)

    def _means(self, rng: np.random.Generator, values: np.ndarray) -> np.ndarray:
        """Means of ``resamples`` resamples (with replacement) of ``values``, in bounded-memory chunks."""
        chunk = max(1, min(self.resamples, CHUNK_CELLS // values.size))
        parts = []
        for start in range(0, self.resamples, chunk):
            idx = rng.integers(0, values.size, size=(min(chunk, self.resamples - start), values.size))
            parts.append(values[idx].mean(axis=1))
        return np.concatenate(parts)

    def _bounds(self, draws: np.ndarray) -> tuple[float, float]:
        """Percentile interval of the bootstrap draws."""
        tail = (1.0 - self.level) / 2 * 100
        low, high = np.percentile(draws, [tail, 100 - tail])
        return float(low), float(high)

    def mean_ci(self, values: Sequence[float]) -> tuple[float, float]:
        """Interval for the mean of ``values`` (at least one value)."""
        arr = np.asarray(values, dtype=float)
        if arr.size == 0:
            raise ValueError("bootstrap of an empty sample")
        return self._bounds(self._means(self.rng(), arr))

    def diff_ci(self, new: Sequence[float], old: Sequence[float]) -> tuple[float, float]:
        """Interval for mean(new) − mean(old), resampling both samples independently."""
        a, b = np.asarray(new, dtype=float), np.asarray(old, dtype=float)
        if a.size == 0 or b.size == 0:
            raise ValueError("bootstrap of an empty sample")
        rng = self.rng()
        return self._bounds(self._means(rng, a) - self._means(rng, b))


@dataclass(frozen=True)
class Estimate:
    """A mean with its interval; ``mean`` is None when fewer than ``MIN_ARTICLES`` values."""

    n: int
    mean: float | None = None
    low: float | None = None
    high: float | None = None

    @property
    def shown(self) -> bool:
        """Whether there were enough values to show the mean."""
        return self.mean is not None

    @property
    def has_interval(self) -> bool:
        """Whether there were enough values for an interval (``BAND_MIN``)."""
        return self.low is not None and self.high is not None

    @property
    def excludes_zero(self) -> bool:
        """True when the interval lies wholly on one side of zero (only then does the level 'lean')."""
        return self.low is not None and self.high is not None and (self.low > 0 or self.high < 0)


@dataclass(frozen=True)
class Change:
    """The change between two estimates, with an interval when both are shown."""

    new: Estimate
    old: Estimate
    delta: float | None = None
    low: float | None = None
    high: float | None = None

    @property
    def significant(self) -> bool:
        """True when the interval of the change excludes zero."""
        return self.low is not None and self.high is not None and (self.low > 0 or self.high < 0)


def estimate(
    values: Sequence[float], boot: Bootstrap, min_n: int = MIN_ARTICLES, band_min: int = BAND_MIN
) -> Estimate:
    """Mean of ``values`` from ``min_n`` values, with its bootstrap interval from ``band_min``."""
    if len(values) < min_n:
        return Estimate(n=len(values))
    mean = float(np.mean(values))
    if len(values) < band_min:
        return Estimate(n=len(values), mean=mean)
    low, high = boot.mean_ci(values)
    return Estimate(n=len(values), mean=mean, low=low, high=high)


def change(
    new: Sequence[float],
    old: Sequence[float],
    boot: Bootstrap,
    min_n: int = MIN_ARTICLES,
    band_min: int = BAND_MIN,
) -> Change:
    """The change of the mean from ``old`` to ``new``; its bootstrap interval only when both sides
    have ``band_min`` values."""
    est_new, est_old = estimate(new, boot, min_n, band_min), estimate(old, boot, min_n, band_min)
    if est_new.mean is None or est_old.mean is None:
        return Change(est_new, est_old)
    delta = est_new.mean - est_old.mean
    if not (est_new.has_interval and est_old.has_interval):
        return Change(est_new, est_old, delta)
    low, high = boot.diff_ci(new, old)
    return Change(est_new, est_old, delta, low, high)


def weekly_series(
    scores: Iterable[tuple[str, str, float]], weeks: Sequence[str], boot: Bootstrap
) -> dict[str, tuple[Estimate, ...]]:
    """Estimates per group and week from (group, week, score) rows: the same numbers in the report's
    charts and the workbench's dashboard. Groups in first-seen order; one estimate per week."""
    by: dict[str, dict[str, list[float]]] = {}
    for group, week, score in scores:
        by.setdefault(group, {}).setdefault(week, []).append(float(score))
    return {g: tuple(_remembered(tuple(w.get(week, [])), boot) for week in weeks) for g, w in by.items()}


@functools.lru_cache(maxsize=512)
def _remembered(values: tuple[float, ...], boot: Bootstrap) -> Estimate:
    """``estimate`` of a sample seen before, from memory (the dashboard redraws unchanged weeks)."""
    return estimate(values, boot)


def provisional(week: str, current: str) -> bool:
    """Whether ``week`` is the week in progress (or later): its numbers are 'so far'."""
    return week >= current


def fmt(value: float | None) -> str:
    """A score with two decimals and an explicit sign (never '-0.00'), or an em dash."""
    if value is None:
        return "—"
    return f"{round(value, 2) + 0.0:+.2f}"


def fmt_interval(est: Estimate | Change) -> str:
    """'[+0.05, +0.19]', or '' where the rule gives no interval."""
    return "" if est.low is None or est.high is None else f"[{fmt(est.low)}, {fmt(est.high)}]"


def lean_words(est: Estimate) -> str:
    """A level in words, by the one rule: 'leans toward Washington/Beijing' only when the interval
    excludes zero; 'is not clearly on either side' when it includes zero; without an interval (fewer than
    ``BAND_MIN`` articles) only the number is given, with no direction."""
    if est.mean is None:
        return f"has too few articles for an index (n={est.n}, needs {MIN_ARTICLES})"
    if not est.has_interval:
        return f"stands at {fmt(est.mean)} from only {est.n} articles, too few to say which way it leans"
    if est.excludes_zero:
        return "leans toward Washington" if est.mean > 0 else "leans toward Beijing"
    return "is not clearly on either side"
