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
from flows.report.stats import BAND_MIN, SO_FAR, Estimate

DODGE = 0.06
"""Horizontal offset between the whiskers of neighbouring group lines (overlapping bands stay legible)."""


@dataclass(frozen=True)
class Line:
    """One named line: its colour and one estimate per week (mean None: no point)."""

    name: str
    color: str
    points: tuple[Estimate, ...]
    width: float = 1.6
    band: bool = False
    """Shade the interval (the all-outlets line); group lines show whiskers only, so bands never pile up."""


def _values(points: Sequence[Estimate], attr: str, solid: bool, so_far: int | None = None) -> list[float]:
    """``attr`` of each estimate as floats (NaN where absent, or where not solid/hollow as asked).
    A point is solid when it has an interval and is not the week in progress (index ``so_far``)."""
    out = []
    for i, p in enumerate(points):
        value = getattr(p, attr)
        keep = value is not None and (p.has_interval and p.n >= BAND_MIN and i != so_far) == solid
        out.append(float(value) if keep else math.nan)
    return out


def _draw(ax: Any, line: Line, xs: list[float], so_far: int | None) -> None:
    """A connected line through every shown week; filled markers with their interval when the rule
    gives one (n ≥ BAND_MIN), hollow markers otherwise and for the week in progress."""
    means = [math.nan if p.mean is None else p.mean for p in line.points]
    ax.plot(xs, means, "-", color=line.color, linewidth=line.width, label=line.name)
    solid = _values(line.points, "mean", True, so_far)
    ax.plot(xs, solid, "o", color=line.color, markersize=5)
    hollow = _values(line.points, "mean", False, so_far)
    ax.plot(xs, hollow, "o", markerfacecolor="white", color=line.color, markersize=5)
    low, high = _values(line.points, "low", True, so_far), _values(line.points, "high", True, so_far)
    if line.band:
        band = [not math.isnan(v) for v in solid]
        ax.fill_between(xs, low, high, where=band, color=line.color, alpha=0.12, linewidth=0)
    for x, lo, hi in zip(xs, low, high, strict=True):
        if not math.isnan(lo):
            ax.plot([x, x], [lo, hi], color=line.color, linewidth=1.0, alpha=0.8)


def index_chart(
    path: Path,
    title: str,
    weeks: Sequence[str],
    overall: Line,
    groups: Sequence[Line],
    *,
    so_far: int | None = None,
    height: float = 4.8,
) -> Path:
    """The all-outlets index (thick, dark, with band) and one line per group (whiskers, dodged);
    ``so_far``: the index of the week in progress, drawn hollow and labelled 'so far'."""
    with style():
        fig = Figure(figsize=(9, height), dpi=DPI, layout="constrained")
        ax = fig.add_subplot()
        ax.axhline(0.0, color="#888888", linewidth=0.8)
        base = [float(x) for x in range(len(weeks))]
        middle = (len(groups) - 1) / 2
        for k, line in enumerate(groups):
            _draw(ax, line, [x + DODGE * (k - middle) for x in base], so_far)
        _draw(ax, overall, base, so_far)
        hollow = f"fewer than {BAND_MIN} articles" + (f" or {SO_FAR}" if so_far is not None else "")
        ax.plot([], [], "o", markerfacecolor="white", color="#555555", label=hollow)
        week_axis(ax, weeks)
        if so_far is not None:
            labels = [t.get_text() for t in ax.get_xticklabels()]
            labels[so_far] = f"{labels[so_far]}\n({SO_FAR})"
            ax.set_xticks(range(len(weeks)), labels)
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
