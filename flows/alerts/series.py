"""Stance series as the detector reads them: the relevant articles of every series (stg_series_articles)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from itertools import groupby
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import numpy as np

from flows.alerts.detect import DetectConfig, Series
from warehouse import query
from warehouse.session import use_timezone

KIND_NAMES = {
    "all": "all outlets",
    "source": "outlet",
    "country": "outlets of country",
    "kind": "outlets of kind",
    "language": "outlets in language",
    "topic": "topic",
    "voice": "voice",
}


def display_name(kind: str, name: str) -> str:
    """'outlets of country KR', 'topic THAAD & missile defence', 'all outlets'."""
    return KIND_NAMES.get(kind, kind) if kind == "all" else f"{KIND_NAMES.get(kind, kind)} {name}"


def last_complete_day(timezone: str, now: datetime | None = None) -> date:
    """The last calendar day that has ended in ``timezone``."""
    moment = now or datetime.now(UTC)
    return moment.astimezone(ZoneInfo(timezone)).date() - timedelta(days=1)


def window(through: date, cfg: DetectConfig) -> tuple[date, date]:
    """The first and last day the detector reads for ``through``."""
    return through - timedelta(days=cfg.scan_days + cfg.baseline_days - 1), through


def build_series(rows: Iterable[tuple[Any, ...]]) -> list[Series]:
    """Series from (kind, key, name, article_id, day, score) rows ordered by kind, key, day."""
    out = []
    for (kind, key), group in groupby(rows, key=lambda r: (r[0], r[1])):
        items = list(group)
        out.append(
            Series(
                kind=str(kind),
                key=str(key),
                name=display_name(str(kind), str(items[0][2])),
                days=np.array([np.datetime64(r[4], "D") for r in items]),
                scores=np.array([float(r[5]) for r in items]),
                article_ids=tuple(str(r[3]) for r in items),
            )
        )
    return out


def load_series(
    con: duckdb.DuckDBPyConnection, through: date, cfg: DetectConfig, timezone: str
) -> list[Series]:
    """Every series' relevant articles in the detector's window ending on ``through``."""
    use_timezone(con, timezone)
    first, last = window(through, cfg)
    return build_series(query.rows(con, "alerts_series_articles", {"first": first, "last": last}))
