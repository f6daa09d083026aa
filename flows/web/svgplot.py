"""The dashboard's weekly index chart as plain geometry (the template draws it as inline SVG).

Each point is a (series, week) with at least MIN_POINT_N relevant scored articles; its interval is
mean ± 1.96 · std / √n (normal approximation over articles). Scores live in [−1, 1].
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import urlencode

from flows.web.reads import MIN_POINT_N

WIDTH, HEIGHT = 860, 320
LEFT, RIGHT, TOP, BOTTOM = 48, 150, 16, 40
PALETTE = ("#222222", "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf")


@dataclass
class Point:
    """One drawn point with what hovering and clicking it shows."""

    x: float
    y: float
    y_lo: float
    y_hi: float
    week: str
    n: int
    mean: float
    lo: float
    hi: float
    href: str


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


def interval(mean: float, std: float | None, n: int) -> tuple[float, float]:
    """95% normal-approximation interval of a weekly mean, clipped to [−1, 1]."""
    half = 1.96 * (std or 0.0) / math.sqrt(n) if n > 1 else 0.0
    return max(-1.0, mean - half), min(1.0, mean + half)


def chart(data: dict[str, Any], group_kind: str) -> dict[str, Any]:
    """Geometry of the weekly chart for ``reads.weekly`` output."""
    weeks: list[tuple[str, date]] = data["weeks"]
    step = (WIDTH - LEFT - RIGHT) / max(1, len(weeks) - 1)
    x_of = {name: LEFT + k * step for k, (name, _) in enumerate(weeks)}
    drawn = []
    for k, (name, rows) in enumerate(data["series"].items()):
        kind = "" if k == 0 else group_kind
        points = [_point(r, x_of, kind, name) for r in rows if r["week"] in x_of and _drawable(r)]
        path = " ".join(f"{'M' if i == 0 else 'L'}{p.x:.1f},{p.y:.1f}" for i, p in enumerate(points))
        drawn.append(Series(name, PALETTE[k % len(PALETTE)], path, TOP + 14 * (k + 1), points))
    drawn.reverse()  # all outlets drawn last, on top
    ticks = [(v, y_of(v)) for v in (-1.0, -0.5, 0.0, 0.5, 1.0)]
    labels = [(name, x_of[name]) for k, (name, _) in enumerate(weeks) if k % 2 == 0 or len(weeks) <= 8]
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
    }


def _drawable(row: dict[str, Any]) -> bool:
    """A point needs a mean and at least MIN_POINT_N relevant articles."""
    return row["mean_score"] is not None and int(row["n_relevant"] or 0) >= MIN_POINT_N


def _point(row: dict[str, Any], x_of: dict[str, float], group_kind: str, group_value: str) -> Point:
    """A point of one weekly row, linking to the week's article list."""
    n = int(row["n_relevant"])
    mean = float(row["mean_score"])
    lo, hi = interval(mean, row["std_score"], n)
    query = {"week": row["week"], "group_kind": group_kind, "group_value": group_value if group_kind else ""}
    return Point(
        x_of[row["week"]],
        y_of(mean),
        y_of(lo),
        y_of(hi),
        row["week"],
        n,
        mean,
        lo,
        hi,
        "/week?" + urlencode(query),
    )
