"""What came with a shift: the articles and passages that moved the series most, the topics whose
attention rose and the voices behind it (stored with the alert as JSON)."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

import duckdb

from flows.alerts.detect import Outcome
from warehouse.query import records

MAX_ARTICLES = 5
MIN_TOPIC_ARTICLES = 2
MIN_TOPIC_RISE = 1.5
VOICE_NAMES = {
    "beijing": "Beijing-side voices",
    "washington": "Washington-side voices",
    "seoul": "Seoul voices",
    "author": "the authors' own voice",
    "other": "other voices",
}


def pole(outcome: Outcome) -> str:
    """The direction of the shift: 'washington' (index up) or 'beijing' (down)."""
    return "washington" if outcome.delta > 0 else "beijing"


def movers(con: duckdb.DuckDBPyConnection, outcome: Outcome) -> list[dict[str, Any]]:
    """The after-window articles that pulled the series most toward the shift, with their passage."""
    if not outcome.after_ids:
        return []
    found = records(con, "alerts_evidence_articles", ids=sorted(outcome.after_ids), pole=pole(outcome))
    base, sign = float(outcome.before.mean()), 1.0 if outcome.delta > 0 else -1.0
    for row in found:
        row["pull"] = round(sign * (float(row["score"]) - base), 4)
        row["day"] = str(row["day"])
        row["text"] = (row["text"] or "")[:600]
    found.sort(key=lambda r: (-r["pull"], r["article_id"]))
    return found[:MAX_ARTICLES]


def topics(con: duckdb.DuckDBPyConnection, outcome: Outcome) -> list[dict[str, Any]]:
    """Topics tagged on a larger share of the after-window articles than of the baseline's."""
    ids = sorted(outcome.after_ids | outcome.before_ids)
    if not ids:
        return []
    names: dict[str, str] = {}
    after: Counter[str] = Counter()
    before: Counter[str] = Counter()
    for row in records(con, "alerts_article_topics", ids=ids):
        names[row["topic_id"]] = row["name"]
        (after if row["article_id"] in outcome.after_ids else before)[row["topic_id"]] += 1
    n_after, n_before = max(1, len(outcome.after_ids)), max(1, len(outcome.before_ids))
    out = []
    for topic, count in after.items():
        share, was = count / n_after, before[topic] / n_before
        rise = share / was if was else None
        if count >= MIN_TOPIC_ARTICLES and (rise is None or rise >= MIN_TOPIC_RISE):
            out.append(
                {
                    "topic_id": topic,
                    "name": names[topic],
                    "articles": count,
                    "share": round(share, 3),
                    "share_before": round(was, 3),
                    "rise": None if rise is None else round(rise, 2),
                }
            )
    return sorted(out, key=lambda t: (-(t["rise"] or 1e9), -t["articles"], t["topic_id"]))


def voices(con: duckdb.DuckDBPyConnection, outcome: Outcome) -> list[dict[str, Any]]:
    """Per voice: passages and mean passage score after and before, biggest share gain first."""
    ids = sorted(outcome.after_ids | outcome.before_ids)
    if not ids:
        return []
    tally: dict[tuple[str, bool], list[float]] = defaultdict(lambda: [0.0, 0.0])
    for row in records(con, "alerts_article_voices", ids=ids):
        cell = tally[(row["voice"], row["article_id"] in outcome.after_ids)]
        cell[0] += row["passages"]
        cell[1] += float(row["score_sum"] or 0.0)
    totals = {side: sum(v[0] for (_, s), v in tally.items() if s == side) or 1.0 for side in (True, False)}
    out = []
    for voice in sorted({v for v, _ in tally}):
        now, was = tally.get((voice, True), [0.0, 0.0]), tally.get((voice, False), [0.0, 0.0])
        out.append(
            {
                "voice": voice,
                "name": VOICE_NAMES.get(voice, voice),
                "passages": int(now[0]),
                "share": round(now[0] / totals[True], 3),
                "share_before": round(was[0] / totals[False], 3),
                "mean_score": round(now[1] / now[0], 3) if now[0] else None,
            }
        )
    return sorted(out, key=lambda v: (-(v["share"] - v["share_before"]), v["voice"]))


def summary(
    series_name: str, outcome: Outcome, topic_rows: list[dict[str, Any]], voice_rows: list[dict[str, Any]]
) -> str:
    """One line: 'toward Beijing in outlets of country KR: Beijing-side voices, THAAD coverage ×3'."""
    parts = []
    lead = next((v for v in voice_rows if v["share"] > v["share_before"] and v["passages"]), None)
    if lead:
        parts.append(f"{lead['name']} {lead['share']:.0%} of passages (was {lead['share_before']:.0%})")
    for t in topic_rows[:2]:
        parts.append(f"{t['name']} coverage " + (f"×{t['rise']:.1f}" if t["rise"] else "new"))
    way = "toward Washington" if outcome.delta > 0 else "toward Beijing"
    return f"{series_name} moved {way} by {outcome.delta:+.2f}" + (f": {', '.join(parts)}" if parts else "")


def gather(con: duckdb.DuckDBPyConnection, outcome: Outcome) -> dict[str, Any]:
    """The evidence of one shift as a JSON-ready dict."""
    topic_rows, voice_rows = topics(con, outcome), voices(con, outcome)
    return {
        "summary": summary(outcome.series.name, outcome, topic_rows, voice_rows),
        "articles": movers(con, outcome),
        "topics": topic_rows,
        "voices": voice_rows,
    }
