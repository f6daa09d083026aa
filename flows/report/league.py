"""The per-outlet league table: volume, relevance, index, trend against four weeks, dominant topic."""

from __future__ import annotations

from collections import Counter

from flows.report.data import BASELINE_WEEKS, ReportData
from flows.report.facts import Facts
from flows.report.palette import display_name
from flows.report.render import Paragraph, Section, Table, not_enough
from flows.report.sections import _scores
from flows.report.stats import MIN_ARTICLES, Bootstrap, Change, change, fmt

MAX_ROWS = 40


def arrow(ch: Change) -> str:
    """'▲ +0.31' (toward Washington) / '▼ −0.25' (toward Beijing) beyond noise; else the plain change."""
    if ch.delta is None:
        return "—"
    if not ch.significant:
        return fmt(ch.delta)
    return f"{'▲' if ch.delta > 0 else '▼'} {fmt(ch.delta)}"


def dominant_topics(data: ReportData, facts: Facts) -> dict[str, str]:
    """source id → the topic most of its articles this week carry (ties: dictionary order)."""
    source_of = {a.article_id: a.source_id for a in facts.articles if a.week == data.week}
    counts: dict[str, Counter[tuple[int, str]]] = {}
    for tag in facts.topics:
        sid = source_of.get(tag.article_id)
        if sid is not None:
            counts.setdefault(sid, Counter())[(tag.position, tag.topic_name)] += 1
    out = {}
    for sid, counter in counts.items():
        (_, name), n = min(counter.items(), key=lambda kv: (-kv[1], kv[0]))
        out[sid] = f"{name} ({n})"
    return out


def league_rows(data: ReportData, facts: Facts, boot: Bootstrap) -> list[tuple[str, ...]]:
    """One row per outlet with an article this week, most relevant articles first."""
    week = [a for a in facts.articles if a.week == data.week]
    topics = dominant_topics(data, facts)
    rows = []
    for sid in sorted({a.source_id for a in week}):
        mine = [a for a in week if a.source_id == sid]
        relevant = sum(a.relevant for a in mine)
        ch = change(
            _scores(data.scored, [data.week], "source_id", sid),
            _scores(data.scored, data.baseline, "source_id", sid),
            boot,
        )
        index = f"{fmt(ch.new.mean)} (n={ch.new.n})" if ch.new.mean is not None else f"— (n={ch.new.n})"
        first = mine[0]
        rows.append(
            (
                relevant,
                len(mine),
                first.source_name,
                display_name("country", first.country),
                display_name("kind", first.kind),
                str(len(mine)),
                str(relevant),
                index,
                arrow(ch),
                topics.get(sid, "—"),
            )
        )
    rows.sort(key=lambda r: (-r[0], -r[1], r[2]))
    return [r[2:] for r in rows]


def league_section(data: ReportData, facts: Facts, boot: Bootstrap) -> Section:
    """The league table section with how to read the arrows."""
    section = Section("Outlets this week")
    every = league_rows(data, facts, boot)
    if not every:
        section.blocks.append(not_enough(f"no article dated {data.week}."))
        return section
    rows = [r for r in every if int(r[4]) >= MIN_ARTICLES]
    rest = [r for r in every if int(r[4]) < MIN_ARTICLES]
    section.blocks.append(
        Paragraph(
            f"Outlets with {MIN_ARTICLES}+ relevant articles in {data.week}. Change: this "
            "week's index against the outlet's previous "
            f"{BASELINE_WEEKS} weeks pooled (needs {MIN_ARTICLES}+ "
            "relevant articles on both sides); ▲ (toward "
            "Washington) or ▼ (toward Beijing) only when the change is "
            "beyond sampling noise. Dominant topic: the "
            "topic most of its articles this week were tagged with (article count)."
        )
    )
    head = (
        "outlet",
        "country",
        "kind",
        "articles",
        "relevant",
        "index",
        f"change vs {BASELINE_WEEKS} weeks",
        "dominant topic",
    )
    if rows:
        section.blocks.append(Table(head, tuple(rows[:MAX_ROWS])))
    else:
        section.blocks.append(not_enough(f"no outlet had {MIN_ARTICLES}+ relevant articles in {data.week}."))
    if len(rows) > MAX_ROWS:
        section.blocks.append(Paragraph(f"{len(rows) - MAX_ROWS} more outlets with fewer relevant articles."))
    if rest:
        articles = sum(int(r[3]) for r in rest)
        relevant = sum(int(r[4]) for r in rest)
        section.blocks.append(
            Paragraph(
                f"{len(rest)} other outlets had fewer than {MIN_ARTICLES} relevant articles each "
                f"({articles} articles, {relevant} relevant, in all): too few for an index."
            )
        )
    return section
