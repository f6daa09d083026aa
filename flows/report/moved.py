"""The report's "What moved" block: the stance-shift alerts whose shift started in the report week."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any, NamedTuple

import duckdb

from flows.report.render import Bullets, Paragraph, Section
from warehouse import query

MAX_MOVED = 8


class Moved(NamedTuple):
    """One alert as the report shows it."""

    alert_id: str
    series_name: str
    direction: str
    start_day: str
    levels: str
    summary: str
    top_article: str


def _fmt(value: float | None) -> str:
    """A signed score with two decimals (no '-0.00'), or an en dash."""
    return "–" if value is None else f"{round(value, 2) + 0.0:+.2f}"


def _moved(row: dict[str, Any]) -> Moved:
    """The report's form of one what_moved.sql row."""
    ev = json.loads(row["evidence_json"] or "{}")
    before, after = (
        f"{_fmt(row[f'{s}_mean'])} [{_fmt(row[f'{s}_low'])}, {_fmt(row[f'{s}_high'])}] (n={row[f'{s}_n']})"
        for s in ("before", "after")
    )
    levels = (
        f"{before} → {after}; change {_fmt(row['delta'])} "
        f"[{_fmt(row['delta_low'])}, {_fmt(row['delta_high'])}], "
        f"|t| {row['strength']:.1f}, q {row['q_value']:.2g} over {row['series_tested']} series"
    )
    top = (ev.get("articles") or [{}])[0]
    article = (
        f"{top.get('source_name')}, “{top.get('title') or top.get('canonical_url')}” ({top.get('day')})"
        if top
        else ""
    )
    return Moved(
        row["alert_id"],
        row["series_name"],
        row["direction"],
        row["start_day"],
        levels,
        ev.get("summary", ""),
        article,
    )


def load_moved(con: duckdb.DuckDBPyConnection, monday: date) -> tuple[Moved, ...]:
    """The alerts of the week starting ``monday`` (none on a warehouse without alerts)."""
    if not query.has_table(con, "alerts"):
        return ()
    span = {"first_day": monday, "last_day": monday + timedelta(days=6)}
    return tuple(map(_moved, query.dicts(con, "what_moved", span, kind="reports")))


def moved_section(moved: tuple[Moved, ...], week: str) -> Section:
    """The "What moved" section: one item per alert, strongest first."""
    section = Section("What moved")
    if not moved:
        section.blocks.append(
            Paragraph(
                f"No stance shift beyond sampling noise started in {week} (`axiswatch alerts list --all`)."
            )
        )
        return section
    section.blocks.append(
        Paragraph(
            "Series whose stance index moved beyond sampling noise from a day of this week (t-test against "
            "the baseline before it, false discovery rate controlled across every series tested; "
            "`axiswatch alerts show ID` for the evidence)."
        )
    )
    items = []
    for m in moved[:MAX_MOVED]:
        way = "toward Washington" if m.direction == "washington" else "toward Beijing"
        text = f"{m.series_name} moved {way} from {m.start_day}: {m.levels}. {m.summary}."
        items.append(
            text
            + (f" Strongest article: {m.top_article}." if m.top_article else "")
            + f" (alert {m.alert_id})"
        )
    section.blocks.append(Bullets(tuple(items)))
    return section
