"""Report sections on evidence, coverage, the model pin and the method."""

from __future__ import annotations

import re
from typing import Any

from flows.report.data import BASELINE_WEEKS, ReportData
from flows.report.render import Link, Paragraph, Section, Table, not_enough

MAX_ROWS = 15
"""Rows of an appendix table; the rest are summed up in one line."""


def _silent(data: ReportData) -> list[tuple[str, int, int, str]]:
    """Sources with articles in the baseline weeks but none this week, most regular first:
    name, articles in the baseline, baseline weeks with articles, last week with articles."""
    out = []
    for sid in sorted({v.source_id for v in data.volume}):
        rows = [v for v in data.volume if v.source_id == sid and v.n_articles > 0]
        base = [v for v in rows if v.week in data.baseline]
        if base and not any(v.week == data.week for v in rows):
            last = max(v.week or "" for v in base)
            out.append((base[0].source_name, sum(v.n_articles for v in base), len(base), last))
    return sorted(out, key=lambda r: (-r[2], -r[1], r[0]))


def coverage_sections(data: ReportData) -> list[Section]:
    """Silent and failing sources, extraction failures, and the funnel of this week."""
    silent = Section("Silent sources", level=3)
    every = _silent(data)
    rows = every[:MAX_ROWS]
    if data.facts.synthetic_dates and every:
        silent.blocks.append(
            Paragraph("Demo data: publication dates are synthetic, so a 'silent' source here is an artefact.")
        )
    if rows:
        silent.blocks.append(
            Table(
                (
                    "source",
                    f"articles in previous {BASELINE_WEEKS} weeks",
                    "weeks with articles",
                    "last week",
                ),
                tuple((n, str(c), str(k), w) for n, c, k, w in rows),
            )
        )
        if len(every) > len(rows):
            silent.blocks.append(
                Paragraph(f"{len(every) - len(rows)} more silent sources with fewer articles before.")
            )
    else:
        silent.blocks.append(
            Paragraph(
                f"No source with articles in the previous {BASELINE_WEEKS} weeks went silent in {data.week}."
            )
        )
    feeds = Section("Feed failures", level=3)
    feeds.blocks.append(
        Table(
            ("source", "failed fetches", "attempts", "error classes", "last error"),
            tuple(
                (f.source_name, str(f.failed), str(f.attempts), f.error_classes, (f.last_error or "")[:160])
                for f in data.feed_failures
            ),
        )
        if data.feed_failures
        else Paragraph(f"No feed fetch failed in {data.week}.")
    )
    extraction = Section("Extraction failures", level=3)
    extraction.blocks.append(
        Table(
            ("source", "error class", "entries", "gave up", "example"),
            tuple(
                (
                    f.source_name,
                    f.error_class,
                    str(f.entries),
                    str(f.gave_up),
                    Link(f.example_url, f.example_url),
                )
                for f in data.extraction_failures
            ),
        )
        if data.extraction_failures
        else Paragraph(f"No page fetch or extraction failed in {data.week}.")
    )
    return [
        Section(
            "Coverage",
            [
                Paragraph(
                    "Coverage of the sources: feed entries are counted in the week they were discovered, "
                    "feed fetches in the week they ran."
                )
            ],
        ),
        silent,
        feeds,
        extraction,
        funnel_section(data),
    ]


def funnel_section(data: ReportData) -> Section:
    """The coverage funnel per source this week, with a total row."""
    section = Section("Funnel", level=3)
    if not data.funnel:
        section.blocks.append(not_enough(f"no feed entry discovered and no feed fetched in {data.week}."))
        return section
    cols = list(zip(*[f[2:] for f in data.funnel], strict=True))
    total = ("total", *(str(sum(c)) for c in cols))
    busiest = sorted(data.funnel, key=lambda f: (-f.discovered, -f.failed_entries, f.source_name))
    head = (
        "source",
        "discovered",
        "fetched",
        "extracted",
        "duplicates",
        "scored",
        "failed entries",
        "feed fetches",
        "failed fetches",
    )
    body = tuple((f.source_name, *(str(x) for x in f[2:])) for f in busiest[:MAX_ROWS])
    section.blocks.append(Table(head, (*body, total)))
    if len(busiest) > MAX_ROWS:
        section.blocks.append(
            Paragraph(f"{len(busiest) - MAX_ROWS} more sources with fewer entries are counted in the total.")
        )
    return section


_CARD_KEYS = {
    "temperature": "temperature",
    "ece": "ECE",
    "expectedcalibrationerror": "ECE",
    "macrof1": "macro-F1",
    "f1macro": "macro-F1",
}


def card_figures(card: Any, path: str = "", depth: int = 0) -> list[tuple[str, str]]:
    """(dotted path, value) of every temperature / ECE / macro-F1 number in a model card."""
    found: list[tuple[str, str]] = []
    if depth > 5 or not isinstance(card, dict):
        return found
    for key, value in card.items():
        where = f"{path}.{key}" if path else str(key)
        norm = re.sub(r"[^a-z0-9]", "", str(key).lower())
        if norm in _CARD_KEYS and isinstance(value, int | float) and not isinstance(value, bool):
            found.append((where, f"{value:.3f}"))
        elif isinstance(value, dict):
            found.extend(card_figures(value, where, depth + 1))
    return found
