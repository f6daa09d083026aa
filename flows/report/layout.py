"""The report's reading order: headline, this week, trends, topics, attention, outlets, evidence,
methodology, and the operations appendix."""

from __future__ import annotations

from pathlib import Path

from flows.report.attention import attention_section
from flows.report.caveats import appendix_sections, method_box
from flows.report.data import ReportData
from flows.report.evidence import evidence_section
from flows.report.league import league_section
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
    return [
        headline_section(data, chart_dir, boot),
        summary_section(data, facts, boot),
        *trend_sections(data, chart_dir, boot),
        topics_section(data, facts, boot),
        attention_section(data, facts, chart_dir, boot),
        league_section(data, facts, boot),
        volume_section(data, chart_dir),
        movers_section(data, boot),
        *evidence_section(facts.candidates, facts.card, data.week),
        method_box(data, facts, boot),
        *appendix_sections(data, facts, chart_dir),
    ]
