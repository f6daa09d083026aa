"""The stance index over time: all outlets with its band, and per country and kind, in fixed colours."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from flows.report import trend_charts
from flows.report.data import ReportData
from flows.report.palette import ALL_OUTLETS, color, display_name
from flows.report.render import Chart, Paragraph, Section, not_enough
from flows.report.sections import TABLE_GROUPS, _group_table, _scores
from flows.report.stats import BAND_MIN, MIN_ARTICLES, SO_FAR, Bootstrap, Estimate, estimate
from flows.report.trend_charts import Line

CHART_KINDS = ("kind",)
"""Charts of this section (the country chart is the key chart of the first screen)."""
MAX_LINES = 6


def weekly(data: ReportData, boot: Bootstrap, attr: str = "", value: str = "") -> tuple[Estimate, ...]:
    """The index estimate of each chart week (all outlets when ``attr`` is '')."""
    return tuple(estimate(_scores(data.scored, [w], attr, value), boot) for w in data.weeks)


def overall_line(data: ReportData, boot: Bootstrap) -> Line:
    """The all-outlets line."""
    return Line("All outlets", ALL_OUTLETS, weekly(data, boot), width=2.8, band=True)


def group_lines(data: ReportData, kind: str, boot: Bootstrap) -> tuple[list[Line], list[str]]:
    """Lines of the largest groups of ``kind`` with at least one point; names of groups left out."""
    counts = Counter(getattr(r, kind) for r in data.scored if r.week in data.weeks)
    lines: list[Line] = []
    left_out: list[str] = []
    for value in sorted(counts, key=lambda v: (-counts[v], v)):
        points = weekly(data, boot, kind, value)
        name = display_name(kind, value)
        if any(p.shown for p in points) and len(lines) < MAX_LINES:
            lines.append(Line(name, color(kind, value), points))
        else:
            left_out.append(name)
    return lines, left_out


CAPTION = (
    "Index = mean article stance (P(washington) − P(beijing)) over relevant articles: −1 is fully toward "
    "Beijing, +1 fully toward Washington. The shaded band (all outlets) and the whiskers (groups, set "
    "slightly apart so they do not hide each other) are 95% bootstrap intervals over articles. "
    f"Hollow points stand for fewer than {BAND_MIN} relevant articles in that group and week: they get no "
    "interval, because an interval from so few articles looks far more "
    f"precise than it is; the week in progress is hollow too and labelled '{SO_FAR}'. Weeks with fewer than "
    f"{MIN_ARTICLES} relevant articles get no point, and the line shows a gap there."
)


def _chart_block(data: ReportData, chart_dir: Path, kind: str, boot: Bootstrap) -> list[Chart | Paragraph]:
    """The chart of one grouping with its note on groups not drawn."""
    lines, left_out = group_lines(data, kind, boot)
    title = f"Stance index: all outlets and by {'country' if kind == 'country' else 'outlet kind'}"
    path = trend_charts.index_chart(
        chart_dir / f"stance_{kind}.png",
        title,
        data.weeks,
        overall_line(data, boot),
        lines,
        so_far=data.so_far(data.weeks),
    )
    blocks: list[Chart | Paragraph] = [Chart(path, f"{title}, weeks {data.weeks[0]} to {data.week}")]
    if left_out:
        blocks.append(
            Paragraph(
                f"Not drawn (smaller groups or no week with {MIN_ARTICLES}+ relevant articles): "
                f"{', '.join(left_out)}."
            )
        )
    return blocks


def trend_sections(data: ReportData, chart_dir: Path, boot: Bootstrap) -> list[Section]:
    """The index section: caption, one chart per grouping, then this week's table per grouping."""
    top = Section("Stance index over time", [Paragraph(CAPTION)])
    if not any(p.shown for p in weekly(data, boot)):
        top.blocks.append(
            not_enough(
                f"no week from {data.weeks[0]} to {data.week} had {MIN_ARTICLES} or more relevant scored "
                "articles; no chart drawn."
            )
        )
    else:
        for kind in CHART_KINDS:
            top.blocks.extend(_chart_block(data, chart_dir, kind, boot))
    sections = [top]
    for kind in TABLE_GROUPS:
        table, small = _group_table(data, kind, boot)
        sub = Section(f"This week by {kind}", level=3)
        if table is None and not small:
            sub.blocks.append(not_enough(f"no relevant scored article in {data.week} or the week before."))
        if table is not None:
            named = tuple((display_name(kind, str(r[0])), *r[1:]) for r in table.rows)
            sub.blocks.append(type(table)(table.headers, named))
        if small:
            names = ", ".join(display_name(kind, v) for v in small)
            few = f"Fewer than {MIN_ARTICLES} relevant articles in either week, so no index: {names}."
            sub.blocks.append(Paragraph(few))
        sections.append(sub)
    return sections
