"""What each page of the web app reads: functions of a read-only connection (SQL in queries/web_*.sql)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import duckdb

from flows.report.calendar import DEFAULT_TIMEZONE, current_week
from flows.report.data import ScoredArticle
from flows.report.stats import Bootstrap, weekly_series
from flows.web.webdb import Rows
from models.aggregate import unscored_reason
from warehouse.query import records, rows

LABELS = ("washington", "hedge", "beijing", "irrelevant")
GROUP_KINDS = ("country", "kind", "affiliation")
ALL_OUTLETS = "all outlets"


def first_week(con: duckdb.DuckDBPyConnection, weeks: int) -> date:
    """The Monday ``weeks - 1`` weeks before the newest week with an article (not before the oldest)."""
    found = records(con, "web_latest_week")
    if not found or not found[0]["week_start"]:
        return date.today() - timedelta(weeks=weeks - 1)
    first: date = max(found[0]["first_start"], found[0]["week_start"] - timedelta(weeks=weeks - 1))
    return first


QUEUE_FILTERS = ("source", "language", "topic", "predicted")
OFF_TOPIC = ("last", "include", "only")
"""Where off-topic passages go in the queue: last (default), among the rest, or alone."""


def queue(
    con: duckdb.DuckDBPyConnection,
    analyst: str,
    skipped: list[str],
    limit: int = 1,
    filters: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The next passage(s) to label for ``analyst`` with article context, how many remain, and the
    values the queue can be filtered by (``filters``: source, language, topic, predicted, offtopic)."""
    chosen = {k: (filters or {}).get(k) or None for k in QUEUE_FILTERS}
    offtopic = (filters or {}).get("offtopic") or "last"
    picked = records(
        con, "web_queue", analyst=analyst, skipped=skipped, limit=limit, offtopic=offtopic, **chosen
    )
    remaining = records(con, "web_queue_size", analyst=analyst)[0]["remaining"]
    items = [passage(con, p["article_id"], p["ordinal"]) | p for p in picked]
    options: dict[str, list[tuple[str, str]]] = {"source": [], "language": [], "topic": []}
    for row in records(con, "web_queue_options"):
        options[row["kind"]].append((row["value"], row["name"]))
    options["predicted"] = [(label, label) for label in LABELS]
    return {"items": items, "remaining": remaining, "options": options}


def passage(con: duckdb.DuckDBPyConnection, article_id: str, ordinal: int, radius: int = 1) -> dict[str, Any]:
    """One scored passage with its probabilities, article title/outlet and neighbouring passages."""
    found = records(con, "web_passage", article_id=article_id, ordinal=ordinal)
    if not found:
        return {}
    item = found[0]
    item["probs"] = {label: item[f"p_{label}"] for label in LABELS}
    item["neighbours"] = records(con, "web_neighbours", article_id=article_id, ordinal=ordinal, radius=radius)
    return item


def article(con: duckdb.DuckDBPyConnection, article_id: str) -> dict[str, Any] | None:
    """An article, its score and every passage with probabilities, voice, evidence share and labels."""
    found = records(con, "web_article", article_id=article_id)
    if not found:
        return None
    head = found[0]
    evidence = {int(e["ordinal"]): e for e in json.loads(head.pop("evidence_json") or "[]")}
    labels: dict[int, Rows] = {}
    for lab in records(con, "web_article_labels", article_id=article_id):
        labels.setdefault(int(lab["ordinal"]), []).append(lab)
    passages = records(con, "web_article_passages", article_id=article_id)
    total = sum(max(0.0, 1.0 - p["p_irrelevant"]) for p in passages if p.get("p_irrelevant") is not None)
    for p in passages:
        p["labels"] = labels.get(p["passage_ordinal"], [])
        p["evidence"] = evidence.get(p["passage_ordinal"])
        p["contribution"] = _contribution(p, total)
    head["passages"] = passages
    scored_off_axis = head.get("model_version") and head.get("score") is None
    head["unscored_because"] = unscored_reason(head["relevant_share"]) if scored_off_axis else None
    return head


def _contribution(p: dict[str, Any], total_weight: float) -> float | None:
    """How much the passage moves its article's score: weight × score / total weight."""
    if p.get("p_irrelevant") is None or not total_weight:
        return None
    return float(max(0.0, 1.0 - p["p_irrelevant"]) * p["score"] / total_weight)


def weekly(
    con: duckdb.DuckDBPyConnection, group_kind: str, weeks: int, now: datetime | None = None
) -> dict[str, Any]:
    """Weekly index series, all outlets and each group of ``group_kind``, over ``weeks`` weeks: the
    report's articles (reports/scored_articles.sql) through the report's statistics (the same index,
    interval and minimum n), and which week is still in progress ('so far')."""
    start = first_week(con, weeks)
    newest = records(con, "web_latest_week")[0]["week_start"] or start
    weeks = min(weeks, (newest - start).days // 7 + 1)
    labels = _week_labels(start, weeks)
    names = [w for w, _ in labels]
    span = {"first_week": start, "last_week": newest}
    found = [ScoredArticle(*r) for r in rows(con, "scored_articles", span, kind="reports")]
    boot = Bootstrap()
    series = weekly_series(((ALL_OUTLETS, a.week, a.score) for a in found), names, boot)
    series |= dict(
        sorted(weekly_series(((getattr(a, group_kind), a.week, a.score) for a in found), names, boot).items())
    )
    zone = (records(con, "session_timezone") or [{}])[0].get("tz") or DEFAULT_TIMEZONE
    in_progress = current_week(zone, now or datetime.now(UTC))
    return {"first_week": start, "weeks": labels, "series": series, "in_progress": in_progress}


def _week_labels(start: date, weeks: int) -> list[tuple[str, date]]:
    """ISO week names and Mondays from ``start``, ``weeks`` of them."""
    out = []
    for k in range(weeks):
        monday = start + timedelta(weeks=k)
        year, week, _ = monday.isocalendar()
        out.append((f"{year}-W{week:02d}", monday))
    return out


def week_articles(con: duckdb.DuckDBPyConnection, week: str, group_kind: str, group_value: str) -> Rows:
    """Articles of one week (all outlets when ``group_kind`` is empty) with their scores."""
    return records(con, "web_week_articles", week=week, group_kind=group_kind, group_value=group_value)


def sources(con: duckdb.DuckDBPyConnection, weeks: int = 8) -> dict[str, Any]:
    """Source health and, per source, the weeks (of the last ``weeks``) without any article."""
    start = first_week(con, weeks)
    names = [w for w, _ in _week_labels(start, weeks)]
    seen: dict[str, set[str]] = {}
    for row in records(con, "web_source_weeks", first_week=start):
        seen.setdefault(row["source_id"], set()).add(row["week"])
    health = records(con, "web_sources")
    for src in health:
        src["silent_weeks"] = [w for w in names if w not in seen.get(src["source_id"], set())]
    return {"sources": health, "weeks": names}


def label_pairs(con: duckdb.DuckDBPyConnection) -> Rows:
    """Passages labelled by two analysts (latest labels), one row per passage and pair."""
    return records(con, "web_label_pairs")


def recent_labels(con: duckdb.DuckDBPyConnection, limit: int = 200) -> Rows:
    """The newest label rows (superseded ones flagged)."""
    return records(con, "web_recent_labels", limit=limit)
