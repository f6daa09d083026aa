"""Report sections on stance: headline, index per outlet group, volume, biggest movers."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from flows.report import charts
from flows.report.data import BASELINE_WEEKS, ReportData, ScoredArticle
from flows.report.render import Chart, Note, Paragraph, Section, Table, not_enough
from flows.report.stats import BAND_MIN, MIN_ARTICLES, SO_FAR, Bootstrap, Change, Estimate, change, fmt

CHART_GROUPS = ("country", "kind")
TABLE_GROUPS = ("country", "kind", "affiliation")
MAX_MOVERS = 10
MAX_SOURCE_BARS = 20


def fmt_est(est: Estimate) -> str:
    """'+0.12 [+0.05, +0.19]'; '+0.12' (no interval) under BAND_MIN; '— (n=2 < 3)' under MIN_ARTICLES."""
    if est.mean is None:
        return f"— (n={est.n} < {MIN_ARTICLES})"
    return f"{fmt(est.mean)} [{fmt(est.low)}, {fmt(est.high)}]" if est.has_interval else fmt(est.mean)


def fmt_change(ch: Change) -> str:
    """'+0.09 [−0.02, +0.20]'; the change alone when a side has fewer than BAND_MIN articles; '—'."""
    if ch.delta is None:
        return "—"
    return fmt(ch.delta) if ch.low is None else f"{fmt(ch.delta)} [{fmt(ch.low)}, {fmt(ch.high)}]"


def _scores(
    rows: Iterable[ScoredArticle], weeks: Iterable[str], attr: str = "", value: str = ""
) -> list[float]:
    """Scores of the rows in ``weeks`` whose attribute ``attr`` equals ``value`` (all when attr is '')."""
    wanted = set(weeks)
    return [r.score for r in rows if r.week in wanted and (not attr or getattr(r, attr) == value)]


def lead_blocks(data: ReportData) -> list[Any]:
    """The opening lines: week, time zone, model pin, and whether there is anything to report."""
    model = data.model.model_version if data.model else "none"
    blocks: list[Any] = []
    if data.facts.synthetic_dates:
        blocks.append(
            Note(
                "Demo data: publication dates are synthetic (spread by `axiswatch demo` over the last 12 "
                "weeks), so week-to-week changes in this report say nothing about the world.",
                role="banner",
            )
        )
    in_progress = data.so_far([data.week]) is not None
    so_far = f" The week is in progress: its numbers are {SO_FAR}." if in_progress else ""
    blocks.append(
        Paragraph(
            f"ISO week {data.week} ({data.week_range}, time zone {data.timezone}). "
            f"Generated {data.generated_at:%Y-%m-%d %H:%M %Z}. Model version: {model}.{so_far}",
            role="meta",
        )
    )
    t = data.totals
    if t.sources == 0 and t.entries == 0 and t.articles == 0:
        blocks.append(
            not_enough(
                "the warehouse is empty (no sources, feed entries or articles yet), so there is nothing "
                "to report. Run the pipeline first (`axiswatch run` with the settings of this report)."
            )
        )
    elif t.articles == 0:
        blocks.append(not_enough(f"{t.sources} sources and {t.entries} feed entries, but no article yet."))
    elif t.scored == 0:
        blocks.append(not_enough(f"{t.articles} articles, none scored by a model yet (`axiswatch score`)."))
    return blocks


def _group_table(data: ReportData, kind: str, boot: Bootstrap) -> tuple[Table | None, list[str]]:
    """This week vs the previous week for every group of ``kind`` with ``MIN_ARTICLES`` relevant
    articles in either week; the values of the smaller groups."""
    prev = [data.previous] if data.previous else []
    values = sorted({getattr(r, kind) for r in data.scored if r.week in (data.week, *prev)})
    rows, small = [], []
    for value in values:
        ch = change(
            _scores(data.scored, [data.week], kind, value), _scores(data.scored, prev, kind, value), boot
        )
        if max(ch.new.n, ch.old.n) < MIN_ARTICLES:
            small.append(value)
            continue
        rows.append((value, fmt_est(ch.new), str(ch.new.n), fmt_est(ch.old), str(ch.old.n), fmt_change(ch)))
    if not rows:
        return None, small
    head = (kind, f"{data.week} index [95% CI]", "n", "previous week [95% CI]", "n", "change [95% CI]")
    return Table(head, tuple(rows)), small


def _volume_by_week(data: ReportData) -> dict[str, tuple[int, int, int]]:
    """(relevant, scored not relevant, unscored) articles per week, all sources."""
    out: dict[str, tuple[int, int, int]] = {}
    for week in data.weeks:
        rows = [v for v in data.volume if v.week == week]
        relevant = sum(v.n_relevant for v in rows)
        scored = sum(v.n_scored for v in rows)
        out[week] = (relevant, scored - relevant, sum(v.n_articles for v in rows) - scored)
    return out


def _source_rows(data: ReportData) -> list[tuple[str, str, int, int, int, float]]:
    """Per source with articles this week or in the baseline: id, name, articles, scored, relevant
    this week, and mean articles per week in the baseline weeks; busiest first."""
    names = {v.source_id: v.source_name for v in data.volume}
    recent = {*data.baseline, data.week}
    rows = []
    for sid in sorted({v.source_id for v in data.volume if v.week in recent and v.n_articles > 0}):
        now = [v for v in data.volume if v.source_id == sid and v.week == data.week]
        base = sum(v.n_articles for v in data.volume if v.source_id == sid and v.week in data.baseline)
        counts = [sum(getattr(v, f) for v in now) for f in ("n_articles", "n_scored", "n_relevant")]
        rows.append((sid, names[sid], *counts, base / max(len(data.baseline), 1)))
    return sorted(rows, key=lambda r: (-r[2], -r[5], r[0]))


def volume_section(data: ReportData, chart_dir: Path) -> Section:
    """Article volume per week and the share of relevant articles (per source: the appendix)."""
    section = Section("Article volume and relevance")
    weekly = _volume_by_week(data)
    if sum(sum(v) for v in weekly.values()) == 0:
        section.blocks.append(not_enough(f"no article dated from {data.weeks[0]} to {data.week}."))
    else:
        stacks = [list(x) for x in zip(*(weekly[w] for w in data.weeks), strict=True)]
        path = charts.weekly_volume_chart(chart_dir / "volume_weekly.png", data.weeks, *stacks)
        section.blocks.append(Chart(path, f"Articles per week, {data.weeks[0]} to {data.week}"))
    relevant, other, unscored = weekly[data.week]
    scored = relevant + other
    share = f"{relevant / scored:.0%}" if scored else "— (nothing scored)"
    active = sum(1 for r in _source_rows(data) if r[2] > 0)
    section.blocks.append(
        Paragraph(
            f"Articles dated {data.week}: {scored + unscored}; sources with articles: {active}; "
            f"scored: {scored}; relevant: {relevant} (relevant share of scored articles: {share}). "
            "Articles per source: the operations appendix."
        )
    )
    return section


def source_volume_section(data: ReportData, chart_dir: Path) -> Section:
    """This week's articles per source (appendix): the busiest sources, the rest in one line."""
    section = Section("Articles per source", level=3)
    rows = _source_rows(data)
    busy = [(r[1], r[4], r[3] - r[4], r[2] - r[3]) for r in rows if r[2] > 0][:MAX_SOURCE_BARS]
    if busy:
        path = charts.source_volume_chart(chart_dir / "volume_sources.png", data.week, busy)
        section.blocks.append(Chart(path, f"Articles per source in {data.week}"))
    else:
        section.blocks.append(not_enough(f"no source had an article in {data.week}; no per-source chart."))
    this_week = [r for r in rows if r[2] > 0]
    shown = this_week[:MAX_SOURCE_BARS]
    if shown:
        head = (
            "source",
            "articles",
            "scored",
            "relevant",
            "relevant share",
            f"mean articles/week, previous {BASELINE_WEEKS} weeks",
        )
        section.blocks.append(
            Table(
                head,
                tuple(
                    (name, str(n), str(s), str(r), f"{r / s:.0%}" if s else "—", f"{base:.1f}")
                    for _, name, n, s, r, base in shown
                ),
            )
        )
    rest = this_week[MAX_SOURCE_BARS:]
    if rest:
        section.blocks.append(
            Paragraph(
                f"{len(rest)} more sources had {sum(r[2] for r in rest)} articles in {data.week} "
                f"(at most {max(r[2] for r in rest)} each)."
            )
        )
    quiet = len({v.source_id for v in data.volume}) - len(this_week)
    if quiet:
        section.blocks.append(Paragraph(f"{quiet} other sources had no article in {data.week}."))
    return section


def source_changes(data: ReportData, boot: Bootstrap) -> list[tuple[str, str, Change]]:
    """(source id, name, change) of every source with a change against its previous weeks."""
    names = {r.source_id: r.source_name for r in data.scored}
    found = []
    for sid in sorted(names):
        ch = change(
            _scores(data.scored, [data.week], "source_id", sid),
            _scores(data.scored, data.baseline, "source_id", sid),
            boot,
        )
        if ch.delta is not None:
            found.append((sid, names[sid], ch))
    return found


def movers_section(data: ReportData, boot: Bootstrap) -> Section:
    """Sources whose index moved most against their previous four weeks (pooled)."""
    section = Section(f"Biggest movers against the previous {BASELINE_WEEKS} weeks")
    found = [(ch, name) for _, name, ch in source_changes(data, boot)]
    if not found:
        section.blocks.append(
            not_enough(
                f"no source had at least {MIN_ARTICLES} relevant scored articles both in {data.week} and in "
                f"the {BASELINE_WEEKS} weeks before."
            )
        )
        return section
    found.sort(key=lambda f: (-abs(f[0].delta or 0.0), f[1]))
    head = (
        "source",
        f"{data.week} (n)",
        f"previous {BASELINE_WEEKS} weeks (n)",
        "change [95% CI]",
        "beyond noise",
    )
    section.blocks.append(
        Table(
            head,
            tuple(
                (
                    name,
                    f"{fmt(ch.new.mean)} ({ch.new.n})",
                    f"{fmt(ch.old.mean)} ({ch.old.n})",
                    fmt_change(ch),
                    "yes" if ch.significant else ("no" if ch.low is not None else f"n < {BAND_MIN}"),
                )
                for ch, name in found[:MAX_MOVERS]
            ),
        )
    )
    return section
