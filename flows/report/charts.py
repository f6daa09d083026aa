"""Charts of the weekly report: matplotlib (Agg, no pyplot state), deterministic PNG bytes."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from matplotlib import rc_context
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from flows.report.palette import font_family

DPI = 100


def style() -> AbstractContextManager[None]:
    """The one chart style of the report and trend charts (DejaVu Sans, Noto CJK for Korean/Chinese)."""
    return rc_context(
        {"font.family": font_family(), "font.size": 10, "axes.spines.top": False, "axes.spines.right": False}
    )


def save(fig: Figure, path: Path) -> Path:
    """Write the figure as PNG without a timestamp or version in its metadata."""
    path.parent.mkdir(parents=True, exist_ok=True)
    FigureCanvasAgg(fig)  # the Agg canvas, without touching pyplot's global backend
    fig.savefig(path, format="png", dpi=DPI, metadata={"Software": None})
    return path


def _short(week: str) -> str:
    """'2026-W48' → 'W48' (the year is given in the axis label)."""
    return week.split("-")[-1]


def week_axis(ax: Any, weeks: Sequence[str]) -> None:
    """Label the x axis with the ISO weeks of the window."""
    ax.set_xticks(range(len(weeks)))
    ax.set_xticklabels([_short(w) for w in weeks], rotation=0)
    ax.set_xlim(-0.5, len(weeks) - 0.5)
    years = sorted({w.split("-")[0] for w in weeks})
    ax.set_xlabel(f"ISO week ({'–'.join([years[0], years[-1]] if len(years) > 1 else years)})")


def weekly_volume_chart(
    path: Path, weeks: Sequence[str], relevant: Sequence[int], other: Sequence[int], unscored: Sequence[int]
) -> Path:
    """Articles per week, stacked: relevant, scored but not relevant, not scored yet."""
    with style():
        fig = Figure(figsize=(9, 3.6), dpi=DPI, layout="constrained")
        ax = fig.add_subplot()
        xs = list(range(len(weeks)))
        ax.bar(xs, relevant, color="#1f77b4", label="relevant")
        ax.bar(xs, other, bottom=relevant, color="#aec7e8", label="scored, not relevant")
        stacked = [r + o for r, o in zip(relevant, other, strict=True)]
        ax.bar(xs, unscored, bottom=stacked, color="#d9d9d9", label="not scored")
        week_axis(ax, weeks)
        ax.set_ylabel("articles")
        ax.set_title("Article volume per week (all sources, duplicates folded)")
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_axisbelow(True)
        ax.grid(axis="y", color="#e6e6e6")
        fig.legend(loc="outside lower center", ncol=4, frameon=False)
        return save(fig, path)


def source_volume_chart(path: Path, week: str, rows: Sequence[tuple[str, int, int, int]]) -> Path:
    """This week's articles per source (source id, relevant, other scored, unscored), busiest on top."""
    ordered = list(reversed(rows))
    with style():
        fig = Figure(figsize=(9, 1.2 + 0.32 * len(ordered)), dpi=DPI, layout="constrained")
        ax = fig.add_subplot()
        ys = list(range(len(ordered)))
        relevant = [r[1] for r in ordered]
        other = [r[2] for r in ordered]
        unscored = [r[3] for r in ordered]
        ax.barh(ys, relevant, color="#1f77b4", label="relevant")
        ax.barh(ys, other, left=relevant, color="#aec7e8", label="scored, not relevant")
        lefts = [r + o for r, o in zip(relevant, other, strict=True)]
        ax.barh(ys, unscored, left=lefts, color="#d9d9d9", label="not scored")
        ax.set_yticks(ys)
        ax.set_yticklabels([r[0] for r in ordered])
        ax.set_xlabel("articles")
        ax.set_title(f"Articles per source in {week}")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_axisbelow(True)
        ax.grid(axis="x", color="#e6e6e6")
        fig.legend(loc="outside lower center", ncol=4, frameon=False)
        return save(fig, path)
