"""'This week': plain sentences generated from the data, each with the number that backs it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from flows.report.data import BASELINE_WEEKS, ReportData
from flows.report.evidence import DEFAULT_CONFIDENCE, card_threshold, excerpt, quotable
from flows.report.facts import Candidate, Facts
from flows.report.palette import display_name
from flows.report.render import Claim, Paragraph, Section, Table
from flows.report.sections import _scores, source_changes
from flows.report.stats import BAND_MIN, MIN_ARTICLES, Bootstrap, Change, Estimate, change, fmt, lean_words

GROUP_KINDS = ("country", "kind")
MAX_GROUPS = 4
MOVERS = 3
TOPIC_MIN_CHANGE = 2.0
Row = tuple[str, str]


def claim(text: str, est: Estimate) -> Claim:
    """A sentence about the level ``est`` with its numbers."""
    return Claim(text, est.n, est.mean, est.low, est.high)


def direction(delta: float) -> str:
    """The direction of a change in words."""
    return "toward Washington" if delta > 0 else "toward Beijing"


def verdict(ch: Change, since: str) -> str:
    """How the change against ``since`` reads: beyond or within sampling noise."""
    if ch.delta is None:
        return f"there are too few relevant articles in {since} to compare (n={ch.old.n} < {MIN_ARTICLES})"
    if ch.low is None:
        return f"the change since {since} has no interval (fewer than {BAND_MIN} articles on a side)"
    if ch.significant:
        return f"it moved {direction(ch.delta)} since {since}, beyond sampling noise"
    return f"the change since {since} is within sampling noise"


def figure(ch: Change) -> str:
    """The number behind an index sentence: index (n), change [95% CI]."""
    text = f"{fmt(ch.new.mean)} (n={ch.new.n})"
    if ch.new.has_interval:
        text += f" [95% CI {fmt(ch.new.low)} to {fmt(ch.new.high)}]"
    if ch.delta is not None:
        text += f"; change {fmt(ch.delta)}"
        if ch.low is not None:
            text += f" [95% CI {fmt(ch.low)} to {fmt(ch.high)}]"
    return text


def index_rows(data: ReportData, boot: Bootstrap, claims: list[Claim] | None = None) -> list[Row]:
    """The all-outlets sentence, then one per large-enough country and outlet kind."""
    prev = [data.previous] if data.previous else []
    since = data.previous or "the week before"
    ch = change(_scores(data.scored, [data.week]), _scores(data.scored, prev), boot)
    if ch.new.mean is None:
        return [
            (
                "Too few relevant articles this week for an index across all outlets.",
                f"n={ch.new.n} (needs {MIN_ARTICLES})",
            )
        ]
    said = claims if claims is not None else []
    text = f"Across all outlets the index {lean_words(ch.new)}; {verdict(ch, since)}."
    said.append(claim(text, ch.new))
    rows = [(text, figure(ch))]
    for kind in GROUP_KINDS:
        values = Counter(getattr(r, kind) for r in data.scored if r.week == data.week)
        for value, _ in sorted(values.items(), key=lambda kv: (-kv[1], kv[0]))[:MAX_GROUPS]:
            g = change(
                _scores(data.scored, [data.week], kind, value), _scores(data.scored, prev, kind, value), boot
            )
            if g.new.mean is not None:
                text = f"{display_name(kind, value)}: the index {lean_words(g.new)}; {verdict(g, since)}."
                said.append(claim(text, g.new))
                rows.append((text, figure(g)))
    return rows


def _pulling_passage(candidates: Sequence[Candidate], pole: str, threshold: float) -> Candidate | None:
    """The strongest confident passage toward ``pole`` among one outlet's passages this week."""
    picked = [q[0] for q in quotable(candidates, threshold) if q[0].label == pole]
    return picked[0] if picked else None


def mover_rows(data: ReportData, facts: Facts, boot: Bootstrap) -> list[Row]:
    """The three outlets whose index moved most against their previous four weeks, with a passage each."""
    stated = card_threshold(facts.card)
    threshold = stated if stated is not None else DEFAULT_CONFIDENCE
    changes = source_changes(data, boot)
    names = {sid: name for sid, name, _ in changes}
    found = [(abs(ch.delta or 0.0), sid, ch) for sid, _, ch in changes]
    rows: list[Row] = []
    for _, sid, ch in sorted(found, key=lambda f: (-f[0], f[1]))[:MOVERS]:
        assert ch.delta is not None
        noise = "beyond sampling noise" if ch.significant else "within sampling noise"
        if ch.low is None:
            noise = f"not established: fewer than {BAND_MIN} articles on a side"
        rows.append(
            (
                f"{names[sid]} moved {direction(ch.delta)} against its previous {BASELINE_WEEKS} weeks "
                f"({noise}).",
                f"{fmt(ch.old.mean)} → {fmt(ch.new.mean)} (n={ch.old.n} → {ch.new.n})",
            )
        )
        pole = "washington" if ch.delta > 0 else "beijing"
        mine = [c for c in facts.candidates if c.source_id == sid]
        passage = _pulling_passage(mine, pole, threshold)
        if passage is not None:
            rows.append(
                (
                    f"  What pulled it: “{excerpt(passage.text)}” ({passage.title or passage.url}, "
                    f"{passage.day.isoformat()})",
                    f"P({pole}) {passage.probs[pole]:.2f}",
                )
            )
    if not rows:
        rows.append(
            (
                "No outlet had enough relevant articles both this week and before to call a mover.",
                f"needs {MIN_ARTICLES}+ articles in both",
            )
        )
    return rows


def topic_counts(data: ReportData, facts: Facts) -> tuple[Counter[str], Counter[str], dict[str, str]]:
    """Tagged articles per topic this week, in the baseline weeks, and topic names."""
    week_of = {a.article_id: a.week for a in facts.articles}
    now: Counter[str] = Counter()
    before: Counter[str] = Counter()
    names = {}
    for tag in facts.topics:
        names[tag.topic_id] = tag.topic_name
        week = week_of.get(tag.article_id)
        if week == data.week:
            now[tag.topic_id] += 1
        elif week in data.baseline:
            before[tag.topic_id] += 1
    return now, before, names


def topic_rows(data: ReportData, facts: Facts) -> list[Row]:
    """Topics that rose or fell most against their weekly mean in the previous four weeks."""
    now, before, names = topic_counts(data, facts)
    span = max(len(data.baseline), 1)
    moves = sorted(((now[t] - before[t] / span, t) for t in names), key=lambda m: (-abs(m[0]), m[1]))
    rows: list[Row] = []
    for delta, tid in moves:
        if abs(delta) >= TOPIC_MIN_CHANGE and len(rows) < 4:
            word = "rose" if delta > 0 else "fell"
            plural = "" if now[tid] == 1 else "s"
            rows.append(
                (
                    f"Coverage of {names[tid]} {word} against its previous {BASELINE_WEEKS} weeks.",
                    f"{now[tid]} article{plural} vs {before[tid] / span:.1f} a week before",
                )
            )
    if not rows:
        top = moves[0] if moves else (0.0, "")
        rows.append(
            (
                "No topic rose or fell by two or more articles a week.",
                f"largest change {top[0]:+.1f} articles ({names.get(top[1], 'none')})",
            )
        )
    return rows


def summary_section(data: ReportData, facts: Facts, boot: Bootstrap) -> Section:
    """The 'This week' section: index sentences, the three biggest movers, topics that rose or fell."""
    claims: list[Claim] = []
    rows = [*index_rows(data, boot, claims), *mover_rows(data, facts, boot), *topic_rows(data, facts)]
    return Section(
        "This week",
        [
            Paragraph(
                f"What changed in {data.week}, in sentences generated from the data; the number beside "
                "each sentence is what it rests on. 'Sampling noise' means the 95% bootstrap interval "
                "of the change includes zero; a level 'leans' only when its interval excludes zero, and "
                f"no interval is given under {BAND_MIN} articles."
            ),
            Table(("finding", "number"), tuple(rows)),
        ],
        claims=claims,
    )
