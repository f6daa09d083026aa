"""Trend charts: the all-outlets index with its band, group lines in fixed colours, attention shares.

Every group keeps one colour (flows/report/palette.py) and is named, never shown as a slug. A
group-week with fewer than ``BAND_MIN`` relevant articles is drawn hollow and without a band; a
week without any article leaves a gap in its line. Text falls back to Noto CJK for Korean/Chinese.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

from flows.report.charts import DPI, save, style, week_axis
from flows.report.stats import Estimate

BAND_MIN = 8
"""Fewest relevant articles a group-week needs for a filled point and a 95% band."""


@dataclass(frozen=True)
class Line:
    """One named line: its colour and one estimate per week (mean None: no point)."""

    name: str
    color: str
    points: tuple[Estimate, ...]
    width: float = 1.6


def _values(points: Sequence[Estimate], attr: str, solid: bool) -> list[float]:
    """``attr`` of each estimate as floats (NaN where absent, or where not solid/hollow as asked)."""
    out = []
    for p in points:
        value = getattr(p, attr)
        keep = value is not None and (p.n >= BAND_MIN) == solid
        out.append(float(value) if keep else math.nan)
    return out


def _draw(ax: Any, line: Line, xs: list[float]) -> None:
    """A connected line through every shown week, filled markers + band when n ≥ BAND_MIN, else hollow."""
    means = [math.nan if p.mean is None else p.mean for p in line.points]
    ax.plot(xs, means, "-", color=line.color, linewidth=line.width, label=line.name)
    solid = _values(line.points, "mean", True)
    ax.plot(xs, solid, "o", color=line.color, markersize=5)
    ax.plot(
        xs, _values(line.points, "mean", False), "o", markerfacecolor="white", color=line.color, markersize=5
    )
    low, high = _values(line.points, "low", True), _values(line.points, "high", True)
    band = [not math.isnan(v) for v in solid]
    ax.fill_between(xs, low, high, where=band, color=line.color, alpha=0.15, linewidth=0, interpolate=False)
    for x, lo, hi in zip(xs, low, high, strict=True):
        if not math.isnan(lo):
            ax.plot([x, x], [lo, hi], color=line.color, linewidth=0.9, alpha=0.7)


def index_chart(path: Path, title: str, weeks: Sequence[str], overall: Line, groups: Sequence[Line]) -> Path:
    """The all-outlets index (thick, dark, with band) and one line per group."""
    with style():
        fig = Figure(figsize=(9, 4.8), dpi=DPI, layout="constrained")
        ax = fig.add_subplot()
        ax.axhline(0.0, color="#888888", linewidth=0.8)
        xs = [float(x) for x in range(len(weeks))]
        for line in (*groups, overall):
            _draw(ax, line, xs)
        hollow = f"fewer than {BAND_MIN} articles"
        ax.plot([], [], "o", markerfacecolor="white", color="#555555", label=hollow)
        week_axis(ax, weeks)
        ax.set_ylim(-1.05, 1.05)
        ax.set_ylabel("stance index\n← Beijing        Washington →")
        ax.set_title(title)
        ax.grid(axis="y", color="#e6e6e6")
        ax.set_axisbelow(True)
        fig.legend(loc="outside lower center", ncol=4, frameon=False)
        return save(fig, path)


@dataclass(frozen=True)
class ShareLine:
    """One named line of shares (0–1) per week; None where the group had no article."""

    name: str
    color: str
    shares: tuple[float | None, ...]


def attention_chart(
    path: Path, weeks: Sequence[str], panels: Sequence[tuple[str, Sequence[ShareLine]]]
) -> Path:
    """On-axis attention (relevant ÷ all articles) per week, one panel per grouping."""
    with style():
        fig = Figure(figsize=(9, 3.4 * len(panels)), dpi=DPI, layout="constrained")
        axes = fig.subplots(len(panels), 1, squeeze=False)[:, 0]
        xs = list(range(len(weeks)))
        for ax, (title, lines) in zip(axes, panels, strict=True):
            for line in lines:
                ys = [math.nan if s is None else 100 * s for s in line.shares]
                ax.plot(xs, ys, "-o", color=line.color, markersize=4, linewidth=1.6, label=line.name)
            week_axis(ax, weeks)
            ax.set_ylim(0, 105)
            ax.set_ylabel("relevant articles, %")
            ax.set_title(title)
            ax.grid(axis="y", color="#e6e6e6")
            if lines:
                ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False, fontsize=9)
        return save(fig, path)
