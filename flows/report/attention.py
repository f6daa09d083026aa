"""On-axis attention (relevant articles as a share of all articles) per group and week, and the
same measures split by language."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from flows.report.data import ReportData
from flows.report.facts import ArticleFact, Facts
from flows.report.palette import color, display_name
from flows.report.render import Chart, Paragraph, Section, Table, not_enough
from flows.report.stats import Bootstrap, estimate, fmt
from flows.report.trend_charts import ShareLine, attention_chart

MAX_LINES = 6
MIN_WEEK_ARTICLES = 5
"""Fewest articles a group-week needs for a point (a share of 1 or 2 articles is noise)."""


def share(rows: Sequence[ArticleFact]) -> float | None:
    """Relevant ÷ all articles (None without articles)."""
    return sum(r.relevant for r in rows) / len(rows) if rows else None


def share_lines(data: ReportData, facts: Facts, kind: str) -> list[ShareLine]:
    """Attention share per week of the largest groups of ``kind`` (country or language)."""
    window = [a for a in facts.articles if a.week in data.weeks]
    sizes = Counter(getattr(a, kind) for a in window)
    lines: list[ShareLine] = []
    for value, _ in sorted(sizes.items(), key=lambda kv: (-kv[1], kv[0])):
        weeks = [[a for a in window if a.week == w and getattr(a, kind) == value] for w in data.weeks]
        shares = tuple(share(rows) if len(rows) >= MIN_WEEK_ARTICLES else None for rows in weeks)
        if any(s is not None for s in shares) and len(lines) < MAX_LINES:
            lines.append(ShareLine(display_name(kind, value), color(kind, value), shares))
    return lines


def language_rows(data: ReportData, facts: Facts, boot: Bootstrap) -> list[tuple[str, ...]]:
    """This week per language: articles, relevant, attention share, index."""
    week = [a for a in facts.articles if a.week == data.week]
    out: list[tuple[str, ...]] = []
    for lang, n in sorted(Counter(a.language for a in week).items(), key=lambda kv: (-kv[1], kv[0])):
        mine = [a for a in week if a.language == lang]
        est = estimate([a.score for a in mine if a.relevant and a.score is not None], boot)
        index = f"{fmt(est.mean)} (n={est.n})" if est.mean is not None else f"— (n={est.n})"
        out.append(
            (
                display_name("language", lang),
                str(n),
                str(sum(a.relevant for a in mine)),
                f"{share(mine) or 0:.0%}",
                index,
            )
        )
    return out


def attention_section(data: ReportData, facts: Facts, chart_dir: Path, boot: Bootstrap) -> Section:
    """Attention chart (by country, by language) and this week's language table."""
    section = Section(
        "On-axis attention and languages",
        [
            Paragraph(
                "Attention = articles the model judged relevant to Seoul's "
                "position between Washington and Beijing, as a "
                "share of all articles the outlets published (duplicates "
                "folded). It shows how much of the coverage is "
                "about the axis at all, before asking which way it leans. A group-week with fewer than "
                f"{MIN_WEEK_ARTICLES} articles gets no point (a gap in its line)."
            )
        ],
    )
    if not any(a.week in data.weeks for a in facts.articles):
        section.blocks.append(not_enough(f"no article from {data.weeks[0]} to {data.week}."))
        return section
    panels = [
        ("By country of the outlet", share_lines(data, facts, "country")),
        ("By language of the article", share_lines(data, facts, "language")),
    ]
    if not any(lines for _, lines in panels):
        section.blocks.append(
            not_enough(f"no country or language had {MIN_WEEK_ARTICLES}+ articles in any week; no chart.")
        )
    else:
        path = attention_chart(chart_dir / "attention.png", data.weeks, panels)
        alt = f"On-axis attention by country and by language, {data.weeks[0]} to {data.week}"
        section.blocks.append(Chart(path, alt))
    rows = language_rows(data, facts, boot)
    if rows:
        section.blocks.append(Table(("language", "articles", "relevant", "attention", "index"), tuple(rows)))
    return section
