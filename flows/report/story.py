"""The report's first screen: one or two sentences generated from the data that say what moved, by
how much, with what certainty and why (the topics and voices behind it), then the key chart.

Every word of direction follows flows/report/stats.py: a level "leans" only when its interval
excludes zero, a change is "beyond sampling noise" only when its interval excludes zero, and no
interval is given under ``BAND_MIN`` articles.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from flows.report import trend_charts
from flows.report.data import BASELINE_WEEKS, ReportData
from flows.report.evidence import DEFAULT_CONFIDENCE, card_threshold, quotable
from flows.report.palette import display_name
from flows.report.render import Chart, Claim, Paragraph, Section, not_enough
from flows.report.sections import _scores, source_changes
from flows.report.stats import (
    BAND_MIN,
    MIN_ARTICLES,
    SO_FAR,
    Bootstrap,
    Change,
    Estimate,
    change,
    fmt,
    lean_words,
)
from flows.report.summary import TOPIC_MIN_CHANGE, topic_counts
from flows.report.trends import group_lines, overall_line

KEY_KIND = "country"
VOICE_NAMES = {
    "author": "the authors themselves",
    "beijing": "Beijing-side voices",
    "seoul": "Seoul voices",
    "washington": "Washington voices",
    "other": "other quoted actors",
}


def interval_text(est: Estimate | Change) -> str:
    """', 95% CI −0.10 to +0.20' or '' where the rule gives no interval."""
    if est.low is None or est.high is None:
        return ""
    return f", 95% CI {fmt(est.low)} to {fmt(est.high)}"


def level_claim(subject: str, est: Estimate) -> Claim:
    """'<subject> leans toward Washington (+0.35, 95% CI …, n=40)' by the one rule, with its numbers."""
    text = f"{subject} {lean_words(est)} ({fmt(est.mean)}{interval_text(est)}, n={est.n})"
    return Claim(text, est.n, est.mean, est.low, est.high)


def move_text(ch: Change, week: str, prev: str) -> str:
    """What moved and by how much, with the certainty the numbers allow."""
    assert ch.delta is not None and ch.new.mean is not None and ch.old.mean is not None
    way = "toward Washington" if ch.delta > 0 else "toward Beijing"
    if abs(ch.delta) < 0.005:
        moved = f"held at {fmt(ch.new.mean)} in {week} ({fmt(ch.old.mean)} in {prev})"
    else:
        moved = (
            f"moved {way} by {abs(ch.delta):.2f} in {week}, from {fmt(ch.old.mean)} in {prev} "
            f"to {fmt(ch.new.mean)}"
        )
    if ch.low is None or ch.high is None:
        return (
            f"The stance index across all outlets {moved}; with {ch.old.n} and {ch.new.n} articles "
            f"(fewer than {BAND_MIN} on a side) there is no interval, so neither the move nor a lean "
            "is established."
        )
    certainty = (
        "beyond sampling noise" if ch.significant else "within sampling noise (the interval includes zero)"
    )
    return (
        f"The stance index across all outlets {moved}: a change of {fmt(ch.delta)} "
        f"(95% CI {fmt(ch.low)} to {fmt(ch.high)}), {certainty}."
    )


def why_text(data: ReportData, boot: Bootstrap, toward: str | None) -> str:
    """The topics, voices and outlet behind the week, in one sentence (empty when nothing stands out)."""
    facts = data.facts
    parts = []
    now, before, names = topic_counts(data, facts)
    span = max(len(data.baseline), 1)
    rising = sorted(
        (t for t in names if now[t] - before[t] / span >= TOPIC_MIN_CHANGE),
        key=lambda t: (-(now[t] - before[t] / span), names[t]),
    )[:2]
    if rising:
        rose = [f"{names[t]} rose ({now[t]} articles vs {before[t] / span:.1f} a week)" for t in rising]
        parts.append("coverage of " + " and ".join(rose))
    elif now:
        top = max(now, key=lambda t: (now[t], names[t]))
        parts.append(f"the most covered topic was {names[top]} ({now[top]} articles)")
    stated = card_threshold(facts.card)
    picked = quotable(facts.candidates, stated if stated is not None else DEFAULT_CONFIDENCE)
    pole = toward or "washington"
    pulling = [c for c, _, _ in picked if c.label == pole and c.voice]
    if pulling:
        voice, k = Counter(c.voice for c in pulling).most_common(1)[0]
        name = VOICE_NAMES.get(str(voice), str(voice))
        side = "Washington" if pole == "washington" else "Beijing"
        if len(pulling) == 1:
            parts.append(f"the one confident passage toward {side} was by {name}")
        else:
            parts.append(f"{k} of the {len(pulling)} confident passages toward {side} were by {name}")
    movers = sorted(source_changes(data, boot), key=lambda m: (-abs(m[2].delta or 0.0), m[1]))
    if movers:
        _, name, ch = movers[0]
        word = "beyond sampling noise" if ch.significant else "not established"
        parts.append(
            f"the largest outlet move was {name} ({fmt(ch.old.mean)} → {fmt(ch.new.mean)} against its "
            f"previous {BASELINE_WEEKS} weeks, {word})"
        )
    if not parts:
        return ""
    text = "; ".join(parts)
    return f"Behind it: {text}."


def key_chart(data: ReportData, chart_dir: Path, boot: Bootstrap) -> Chart:
    """The all-outlets index with its band and the largest countries, the week in progress hollow."""
    lines, _ = group_lines(data, KEY_KIND, boot)
    title = "Stance index: all outlets and by country"
    so_far = data.so_far(data.weeks)
    path = trend_charts.index_chart(
        chart_dir / f"stance_{KEY_KIND}.png",
        title,
        data.weeks,
        overall_line(data, boot),
        lines,
        so_far=so_far,
        height=3.9,
    )
    tail = f" ({data.weeks[so_far]} {SO_FAR})" if so_far is not None else ""
    return Chart(path, f"{title}, weeks {data.weeks[0]} to {data.week}{tail}", role="key")


def headline_section(data: ReportData, chart_dir: Path, boot: Bootstrap) -> Section:
    """The first screen: the headline sentence(s), why, and the key chart."""
    section = Section("Headline")
    if not any(v.n_articles for v in data.volume if v.week == data.week):
        section.blocks.append(
            Paragraph(
                f"No data for {data.week}: no article dated in this week was stored, so there is no "
                "stance index, movement or evidence to report for it.",
                strong=True,
                role="headline",
            )
        )
        return section
    prev = data.previous
    ch = change(_scores(data.scored, [data.week]), _scores(data.scored, [prev] if prev else []), boot)
    if ch.new.mean is None:
        section.blocks.append(
            not_enough(
                f"{ch.new.n} relevant scored articles in {data.week} "
                f"(the index needs at least {MIN_ARTICLES})."
            )
        )
        return section
    level = level_claim("Its level", ch.new)
    provisional = data.so_far([data.week]) is not None
    when = f"{data.week} ({SO_FAR})" if provisional else data.week
    if ch.delta is None or prev is None:
        first = (
            f"In {when} the stance index across all outlets stands at {fmt(ch.new.mean)} (n={ch.new.n}); "
            f"the week before had too few relevant articles to compare (n={ch.old.n} < {MIN_ARTICLES})."
        )
    else:
        first = move_text(ch, when, prev)
    said = f"{first} {level.text}." if ch.new.has_interval else first
    section.blocks.append(Paragraph(said, strong=True, role="headline"))
    section.claims.append(level)
    toward = None if ch.delta is None else ("washington" if ch.delta > 0 else "beijing")
    why = why_text(data, boot, toward)
    if why:
        section.blocks.append(Paragraph(why, role="why"))
    if any(p.shown for p in overall_line(data, boot).points):
        section.blocks.append(key_chart(data, chart_dir, boot))
    return section


def group_claim(kind: str, value: str, est: Estimate) -> Claim:
    """A level claim for a named group."""
    return level_claim(f"{display_name(kind, value)}: the index", est)
