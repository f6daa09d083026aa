"""The change-point detector on synthetic series: start located, BH applied, minimum n, groups."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest

from flows.alerts.detect import (
    DetectConfig,
    Series,
    benjamini_hochberg,
    check_series,
    consolidate,
    detect,
    t_test,
)
from flows.alerts.tdist import t_two_sided_p

THROUGH = date(2026, 11, 30)
CFG = DetectConfig()


def make(key: str, shift: float = 0.0, start: date | None = None, per_day: int = 10, seed: int = 1) -> Series:
    """35 days of ``per_day`` scores around -0.1 (sd 0.4), ``shift`` added from ``start``."""
    rng = np.random.default_rng(seed)
    days, scores, ids = [], [], []
    for d in range(35):
        day = THROUGH - timedelta(days=34 - d)
        for i in range(per_day):
            value = rng.normal(-0.1, 0.4) + (shift if start and day >= start else 0.0)
            days.append(np.datetime64(day.isoformat(), "D"))
            scores.append(float(np.clip(value, -1, 1)))
            ids.append(f"{key}-{d}-{i}")
    return Series("country", key, key, np.array(days), np.array(scores), tuple(ids))


def test_benjamini_hochberg_matches_hand_computed_values() -> None:
    q = benjamini_hochberg([0.01, 0.04, 0.03, 0.5])
    assert np.allclose(q, [0.04, 0.16 / 3, 0.16 / 3, 0.5])  # p·m/rank, then the running minimum from the top


def test_a_shift_is_found_with_its_start() -> None:
    start = THROUGH - timedelta(days=1)
    outcome = check_series(make("kr", 0.4, start, per_day=15), THROUGH, CFG)
    assert outcome is not None and outcome.start == start
    assert 0.25 < outcome.delta < 0.55 and outcome.p < 1e-3


def test_too_few_articles_are_not_tested() -> None:
    assert check_series(make("kr", 0.5, THROUGH, per_day=1), THROUGH, CFG) is None  # 7 days × 1 < 10


def test_unshifted_series_raise_nothing_and_shifted_ones_are_grouped() -> None:
    quiet = [make(f"q{i}", seed=i) for i in range(30)]
    found, tested = detect(quiet, THROUGH, CFG)
    assert tested == 30 and found == []
    start = THROUGH - timedelta(days=2)
    kr = make("kr", 0.5, start, seed=99)
    also = Series("kind", "newspaper", "newspaper", kr.days, kr.scores + 0.01, kr.article_ids)
    found, _ = detect([*quiet, kr, also], THROUGH, CFG)
    groups = consolidate(found)
    assert len(groups) == 1 and {groups[0][0].series.key, groups[0][1][0].series.key} == {"kr", "newspaper"}


def test_the_t_test_is_scipys_pooled_t_test() -> None:
    from scipy import stats

    rng = np.random.default_rng(7)
    for n_after, n_before in ((10, 80), (3, 5), (40, 40)):
        a, b = rng.normal(0.3, 0.6, n_after), rng.normal(0.0, 0.6, n_before)
        expected = stats.ttest_ind(a, b, equal_var=True)
        t, p = t_test(a, b)
        assert abs(t - expected.statistic) < 1e-9 and abs(p - expected.pvalue) < 1e-12


def test_the_t_distribution_matches_scipy_far_into_the_tails() -> None:
    """The continued fraction (flows/alerts/tdist.py) against scipy's stdtr, from one degree of
    freedom to 10⁵ and from t = 0 to 300, both signs; bad degrees of freedom are refused."""
    from scipy.special import stdtr

    for df in (1, 2, 3, 5, 8, 10, 30, 100, 1_000, 10_000, 100_000):
        for t in (0.0, 1e-6, 0.1, 0.5, 1.0, 1.96, 3.0, 10.0, 40.0, 300.0):
            expected = float(2 * stdtr(df, -t))
            for signed in (t, -t):
                assert t_two_sided_p(signed, df) == pytest.approx(expected, rel=1e-9, abs=1e-300), (df, t)
    assert t_two_sided_p(float("inf"), 5) == 0.0
    with pytest.raises(ValueError, match="degrees of freedom"):
        t_two_sided_p(1.0, 0)
