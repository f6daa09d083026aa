"""Statistics of the weekly report: bootstrap confidence intervals over articles (seeded, numpy)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

MIN_ARTICLES = 3
"""Fewest relevant scored articles a group-week needs before its index is shown or plotted."""
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


def estimate(values: Sequence[float], boot: Bootstrap, min_n: int = MIN_ARTICLES) -> Estimate:
    """Mean and bootstrap interval of ``values``, or only the count when there are too few."""
    if len(values) < min_n:
        return Estimate(n=len(values))
    low, high = boot.mean_ci(values)
    return Estimate(n=len(values), mean=float(np.mean(values)), low=low, high=high)


def change(new: Sequence[float], old: Sequence[float], boot: Bootstrap, min_n: int = MIN_ARTICLES) -> Change:
    """The change of the mean from ``old`` to ``new`` with a bootstrap interval."""
    est_new, est_old = estimate(new, boot, min_n), estimate(old, boot, min_n)
    if est_new.mean is None or est_old.mean is None:
        return Change(est_new, est_old)
    low, high = boot.diff_ci(new, old)
    return Change(est_new, est_old, est_new.mean - est_old.mean, low, high)
