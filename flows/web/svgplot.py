"""The dashboard's weekly index chart as plain geometry (the template draws it as inline SVG).

The numbers are the report's (flows/report/stats.py): a point from MIN_ARTICLES relevant scored
articles, a 95% bootstrap interval (whisker, filled point) only from BAND_MIN, a hollow point
without an interval under that and for the week in progress, labelled "so far". Groups carry the
report's names and colours (flows/report/palette.py). Scores live in [−1, 1].
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import urlencode

from flows.report.palette import ALL_OUTLETS, color, display_name
from flows.report.stats import BAND_MIN, MIN_ARTICLES, SO_FAR, Estimate, provisional

WIDTH, HEIGHT = 860, 320
LEFT, RIGHT, TOP, BOTTOM = 48, 170, 16, 40


@dataclass
class Point:
    """One drawn point with what hovering and clicking it shows."""

    x: float
    y: float
    y_lo: float | None
    y_hi: float | None
    week: str
    n: int
    mean: float
    lo: float | None
    hi: float | None
    href: str
    hollow: bool
    so_far: bool


@dataclass
class Series:
    """One line: a group (or all outlets), its colour, path and points."""

    name: str
    color: str
    path: str
    legend_y: float
    points: list[Point] = field(default_factory=list)


def y_of(score: float) -> float:
    """Pixel row of a score in [−1, 1]."""
    inner = HEIGHT - TOP - BOTTOM
    return TOP + (1.0 - max(-1.0, min(1.0, score))) / 2.0 * inner


def chart(data: dict[str, Any], group_kind: str) -> dict[str, Any]:
    """Geometry of the weekly chart for ``reads.weekly`` output."""
    weeks: list[tuple[str, date]] = data["weeks"]
    in_progress = data.get("in_progress") or "9999-W99"
    step = (WIDTH - LEFT - RIGHT) / max(1, len(weeks) - 1)
    x_of = {name: LEFT + k * step for k, (name, _) in enumerate(weeks)}
    drawn = []
    for k, (value, estimates) in enumerate(data["series"].items()):
        kind = "" if k == 0 else group_kind
        name = "All outlets" if k == 0 else display_name(group_kind, str(value))
        points = [
            _point(e, week, x_of[week], kind, str(value), provisional(week, in_progress))
            for (week, _), e in zip(weeks, estimates, strict=True)
            if e.mean is not None
        ]
        path = " ".join(f"{'M' if i == 0 else 'L'}{p.x:.1f},{p.y:.1f}" for i, p in enumerate(points))
        colour = ALL_OUTLETS if k == 0 else color(group_kind, str(value))
        drawn.append(Series(name, colour, path, TOP + 14 * (k + 1), points))
    drawn.reverse()  # all outlets drawn last, on top
    ticks = [(v, y_of(v)) for v in (-1.0, -0.5, 0.0, 0.5, 1.0)]
    labels = [
        (name[5:] + (f" ({SO_FAR})" if provisional(name, in_progress) else ""), x_of[name])
        for k, (name, _) in enumerate(weeks)
        if k % 2 == (len(weeks) - 1) % 2 or len(weeks) <= 8
    ]
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "series": drawn,
        "ticks": ticks,
        "x_labels": labels,
        "left": LEFT,
        "right": WIDTH - RIGHT,
        "top": TOP,
        "bottom": HEIGHT - BOTTOM,
        "min_n": MIN_ARTICLES,
        "band_min": BAND_MIN,
    }


def _point(est: Estimate, week: str, x: float, group_kind: str, group_value: str, so_far: bool) -> Point:
    """A point of one group-week estimate, linking to the week's article list."""
    assert est.mean is not None
    query = {"week": week, "group_kind": group_kind, "group_value": group_value if group_kind else ""}
    lo, hi = (est.low, est.high) if est.has_interval else (None, None)
    return Point(
        x,
        y_of(est.mean),
        None if lo is None else y_of(lo),
        None if hi is None else y_of(hi),
        week,
        est.n,
        est.mean,
        lo,
        hi,
        "/week?" + urlencode(query),
        hollow=so_far or not est.has_interval,
        so_far=so_far,
    )
