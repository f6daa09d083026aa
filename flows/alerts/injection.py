"""`axiswatch alerts eval`: the detector measured on the demo corpus's real series, replayed.

The demo corpus (built offline by `axiswatch demo` when missing) gives every stance series its
real article scores. A trial replays a panel of those series day by day: each day a series gets
``per_day`` articles drawn (with replacement) from its own real scores. In a shifted trial one
series is shifted from a known start day by substitution: each of its articles is, with the
probability that moves its mean by ``shift``, replaced by a real article from the other direction
(scored toward Washington for a positive shift). The detector then runs as the pipeline runs it,
once per complete day over the whole panel (Benjamini–Hochberg across the panel), until the
shifted series is flagged (delay = days of shifted data seen) or ``MAX_DELAY`` days pass.
False alarms: unshifted panels run for ``NULL_DAYS`` days; a flag on a series counts once per
episode (as stored alerts do: a repeat in the same direction within the baseline is not new).
"""

from __future__ import annotations

import platform
import sys
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np

from flows.alerts.detect import DetectConfig, Series, detect
from flows.settings import Settings
from warehouse import query
from warehouse.db import reader, writer

START = date(2026, 1, 5)
MAX_DELAY = 7
NULL_DAYS = 364
NULL_PANELS = 2
MIN_POOL = 20
SEED = 20261207


@dataclass(frozen=True)
class Others:
    """The substitutes of an injected shift: real article scores toward each pole."""

    washington: np.ndarray
    beijing: np.ndarray


@dataclass(frozen=True)
class Pool:
    """A real series of the demo corpus: its id and its articles' scores."""

    kind: str
    key: str
    scores: np.ndarray


def demo_location(settings: Settings, quiet: bool) -> Settings:
    """Settings of the demo warehouse, built offline by the demo when it is missing."""
    from flows.tools.demo import demo_settings, run_demo

    demo = demo_settings(settings, "")
    if not demo.warehouse_path.exists():
        if not quiet:
            print(
                "alerts eval: building the demo warehouse first (`axiswatch demo`, offline)", file=sys.stderr
            )
        if run_demo(settings, port=0, quiet=True) != 0:
            raise RuntimeError("the demo pipeline run failed; see `axiswatch demo`")
    with writer(demo.location):
        pass  # a demo built by older code gets this code's migrations and views
    return demo


def load_pools(demo: Settings) -> tuple[list[Pool], Others]:
    """The demo's series with at least MIN_POOL relevant articles, and the scores toward each pole."""
    with reader(demo.location) as con:
        rows = query.rows(con, "alerts_eval_pools", {"n": MIN_POOL})
        every = query.rows(con, "alerts_eval_scores")
    scores = np.array([r[0] for r in every], dtype=float)
    others = Others(scores[scores > 0], scores[scores < 0])
    return [Pool(k, v, np.array(s, dtype=float)) for k, v, s in rows], others


def replay(rng: np.random.Generator, pool: Pool, first: date, days: int, per_day: int) -> Series:
    """``days`` days of ``per_day`` articles drawn from the pool's real scores."""
    n = days * per_day
    day_index = np.repeat(np.arange(days), per_day)
    stamps = np.datetime64(first.isoformat(), "D") + day_index
    ids = tuple(f"{pool.kind}:{pool.key}:{i}" for i in range(n))
    return Series(pool.kind, pool.key, pool.key, stamps, rng.choice(pool.scores, n), ids)


def inject(rng: np.random.Generator, series: Series, start: date, shift: float, pools: Others) -> Series:
    """The series shifted by ``shift`` from ``start``, toward the pole farther from its mean: each
    article is, with the probability that moves the mean that far, replaced by a real article
    scored toward that pole."""
    mean = float(series.scores.mean())
    other = pools.washington if mean <= 0 else pools.beijing
    gap = abs(float(other.mean()) - mean)
    after = series.days >= np.datetime64(start.isoformat(), "D")
    swap = after & (rng.random(series.scores.size) < min(1.0, shift / gap))
    scores = series.scores.copy()
    scores[swap] = rng.choice(other, int(swap.sum()))
    return Series(series.kind, series.key, series.name, series.days, scores, series.article_ids)


def first_flag(
    panel: list[Series], target: tuple[str, str], upward: bool, start: date, cfg: DetectConfig
) -> int | None:
    """Days of shifted data the detector needed to flag ``target`` (None: not within MAX_DELAY)."""
    for delay in range(1, MAX_DELAY + 1):
        found, _ = detect(panel, start + timedelta(days=delay - 1), cfg)
        if any(o.series.ident == target and (o.delta > 0) == upward for o in found):
            return delay
    return None


def shifted_trials(
    rng: np.random.Generator,
    pools: list[Pool],
    other: Others,
    cfg: DetectConfig,
    trials: int,
    per_day: int,
    shift: float,
) -> list[int | None]:
    """The delay of each shifted trial (None: missed); the shifted series rotates over the pools."""
    history = cfg.baseline_days + cfg.scan_days
    delays = []
    for t in range(trials):
        panel = [replay(rng, p, START, history + MAX_DELAY, per_day) for p in pools]
        start = START + timedelta(days=history)
        i = t % len(pools)
        upward = float(panel[i].scores.mean()) <= 0
        panel[i] = inject(rng, panel[i], start, shift, other)
        delays.append(first_flag(panel, panel[i].ident, upward, start, cfg))
        _progress(f"shifted trials {t + 1}/{trials}")
    return delays


def false_alarms(
    rng: np.random.Generator, pools: list[Pool], cfg: DetectConfig, per_day: int
) -> tuple[int, float]:
    """(alarms, series-weeks) of unshifted panels run daily for NULL_DAYS days, one alarm per episode."""
    history = cfg.baseline_days + cfg.scan_days
    alarms = 0
    last: dict[tuple[tuple[str, str], bool], date] = {}
    for panel_no in range(NULL_PANELS):
        panel = [replay(rng, p, START, history + NULL_DAYS, per_day) for p in pools]
        last.clear()
        for d in range(NULL_DAYS):
            through = START + timedelta(days=history + d)
            for o in detect(panel, through, cfg)[0]:
                key = (o.series.ident, o.delta > 0)
                if key not in last or last[key] < o.start - timedelta(days=cfg.baseline_days):
                    alarms += 1
                last[key] = o.start
            _progress(f"unshifted panel {panel_no + 1}/{NULL_PANELS}: day {d + 1}/{NULL_DAYS}")
    return alarms, NULL_PANELS * len(pools) * NULL_DAYS / 7


def _progress(message: str) -> None:
    """A progress line on an interactive terminal (nothing otherwise)."""
    if sys.stderr.isatty():
        print(f"\r\033[K{message}", end="", file=sys.stderr, flush=True)


def evaluate(
    settings: Settings, *, trials: int = 200, per_day: int = 10, shift: float = 0.3, quiet: bool = False
) -> dict[str, Any]:
    """Run the evaluation and return its figures (see the module docstring)."""
    demo = demo_location(settings, quiet)
    pools, other = load_pools(demo)
    if not pools:
        raise RuntimeError("the demo warehouse has no series with enough relevant articles")
    cfg = DetectConfig(
        min_after=settings.alert_min_articles,
        min_delta=settings.alert_min_delta,
        fdr=settings.alert_fdr,
        scan_days=settings.alert_scan_days,
        baseline_days=settings.alert_baseline_days,
    )
    rng = np.random.default_rng(SEED)
    delays = shifted_trials(rng, pools, other, cfg, trials, per_day, shift)
    alarms, series_weeks = false_alarms(rng, pools, cfg, per_day)
    _progress("")
    hits = [d for d in delays if d is not None]
    return {
        "detection_rate": sum(d <= 2 for d in hits) / len(delays),
        "detection_rate_7_days": len(hits) / len(delays),
        "median_delay_days": float(np.median(hits)) if hits else None,
        "false_alarms_per_100_series_weeks": 100 * alarms / series_weeks,
        "false_alarms": alarms,
        "series_weeks": round(series_weeks, 1),
        "trials": trials,
        "shift": shift,
        "articles_per_day": per_day,
        "series": len(pools),
        "series_names": [f"{p.kind}:{p.key}" for p in pools],
        "pool_sizes": [int(p.scores.size) for p in pools],
        "score_sd": round(float(np.mean([p.scores.std() for p in pools])), 3),
        "config": cfg.__dict__,
        "seed": SEED,
        "machine": f"{platform.node()} {platform.machine()}",
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def render(f: dict[str, Any]) -> str:
    """The figures as a few lines."""
    delay = "–" if f["median_delay_days"] is None else f"{f['median_delay_days']:g}"
    return "\n".join(
        [
            f"alerts eval: {f['trials']} shifted trials ({f['shift']:+g} at "
            f"{f['articles_per_day']} articles/day) over {f['series']} replayed demo series",
            f"  flagged within 2 days: {f['detection_rate']:.1%} "
            f"(within 7: {f['detection_rate_7_days']:.1%}); "
            f"median delay {delay} days",
            f"  false alarms: {f['false_alarms']} in {f['series_weeks']:g} unshifted series-weeks = "
            f"{f['false_alarms_per_100_series_weeks']:.2f} per 100 series-weeks",
        ]
    )
