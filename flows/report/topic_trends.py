"""Topics and events: volume and stance per topic this week against the previous four weeks."""

from __future__ import annotations

from flows.report.data import BASELINE_WEEKS, ReportData
from flows.report.facts import Facts
from flows.report.render import Paragraph, Section, Table, not_enough
from flows.report.stats import Bootstrap, estimate, fmt
from flows.report.summary import topic_counts


def topic_rows(data: ReportData, facts: Facts, boot: Bootstrap) -> list[tuple[str, ...]]:
    """Per topic seen this week or before: articles, relevant, index this week, weekly mean before."""
    now, before, names = topic_counts(data, facts)
    by_id = {a.article_id: a for a in facts.articles if a.week == data.week}
    span = max(len(data.baseline), 1)
    rows: list[tuple[str, ...]] = []
    for tid in sorted(names, key=lambda t: (-now[t], -before[t], names[t])):
        if not now[tid] and not before[tid]:
            continue
        tagged = [by_id[t.article_id] for t in facts.topics if t.topic_id == tid and t.article_id in by_id]
        scores = [a.score for a in tagged if a.relevant and a.score is not None]
        est = estimate(scores, boot)
        index = f"{fmt(est.mean)} (n={est.n})" if est.mean is not None else f"— (n={est.n})"
        rows.append(
            (
                names[tid],
                str(now[tid]),
                str(len(scores)),
                index,
                f"{before[tid] / span:.1f}",
                f"{now[tid] - before[tid] / span:+.1f}",
            )
        )
    return rows


def topics_section(data: ReportData, facts: Facts, boot: Bootstrap) -> Section:
    """The topics table, or why there is none."""
    section = Section(
        "Topics and events",
        [
            Paragraph(
                "Articles are tagged with topics from a small trilingual "
                "dictionary (seeds/topics.toml), matched on "
                "normalised text in English, Korean and Chinese; an "
                "article can carry several topics. Index: mean "
                "stance of this week's relevant tagged articles (shown from "
                "3 articles). Compare the article count "
                f"with the mean per week over the previous {BASELINE_WEEKS} "
                "weeks to see which topics drive the week."
            )
        ],
    )
    rows = topic_rows(data, facts, boot)
    if not rows:
        section.blocks.append(
            not_enough(
                f"no article tagged with a topic in {data.week} or the "
                f"{BASELINE_WEEKS} weeks before (the topic tags come with the search "
                "index: `axiswatch run`)."
            )
        )
        return section
    head = (
        "topic",
        f"articles {data.week}",
        "relevant",
        "index",
        f"per week, previous {BASELINE_WEEKS}",
        "change",
    )
    section.blocks.append(Table(head, tuple(rows)))
    return section
