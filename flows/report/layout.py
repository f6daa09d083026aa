"""The report's reading order: headline, this week, what moved (alerts), trends, topics, attention,
outlets, evidence, methodology, and the operations appendix."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from flows.orchestration.progress import tracker
from flows.report.attention import attention_section
from flows.report.caveats import appendix_sections, method_box
from flows.report.data import ReportData
from flows.report.evidence import evidence_section
from flows.report.league import league_section
from flows.report.moved import moved_section
from flows.report.render import Section
from flows.report.sections import movers_section, volume_section
from flows.report.stats import Bootstrap
from flows.report.story import headline_section
from flows.report.summary import summary_section
from flows.report.topic_trends import topics_section
from flows.report.trends import trend_sections


def compose(data: ReportData, chart_dir: Path, boot: Bootstrap) -> list[Section]:
    """Every section of the report, in reading order (charts are written to ``chart_dir``)."""
    facts = data.facts
    parts: list[Callable[[], Section | list[Section]]] = [
        lambda: headline_section(data, chart_dir, boot),
        lambda: summary_section(data, facts, boot),
        lambda: moved_section(data.moved, data.week),
        lambda: trend_sections(data, chart_dir, boot),
        lambda: topics_section(data, facts, boot),
        lambda: attention_section(data, facts, chart_dir, boot),
        lambda: league_section(data, facts, boot),
        lambda: volume_section(data, chart_dir),
        lambda: movers_section(data, boot),
        lambda: evidence_section(facts.candidates, facts.card, data.week),
        lambda: method_box(data, facts, boot),
        lambda: appendix_sections(data, facts, chart_dir),
    ]
    sections: list[Section] = []
    with tracker(f"drawing the report of {data.week}", total=len(parts)) as bar:
        for part in parts:
            made = part()
            sections.extend(made if isinstance(made, list) else [made])
            bar.advance()
    return sections
