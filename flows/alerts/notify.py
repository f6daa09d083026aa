"""Notifications through apprise (e-mail, webhooks, Slack, Teams, …): every destination gets every
alert once; a failed attempt is recorded with its reason and retried on the next run."""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import apprise

from warehouse.alerts_ops import RecordDeliveries
from warehouse.query import dicts
from warehouse.sink import Sink

log = logging.getLogger(__name__)
MAX_ERROR = 300
RECENT = timedelta(days=7)
"""Alerts detected this long ago or less are (re)sent to a destination that lacks them."""


@dataclass(frozen=True)
class Destination:
    """One apprise URL: its key (hash), how it is shown (secrets hidden) and the URL itself."""

    key: str
    shown: str
    url: str


def _plugin(url: str) -> Any:
    """apprise's notifier for ``url``, or None when apprise cannot read it (nothing is sent)."""
    with apprise.LogCapture(level=logging.ERROR):  # type: ignore[no-untyped-call]
        return apprise.Apprise.instantiate(url)


def check_urls(urls: Sequence[str]) -> tuple[str, ...]:
    """The URLs unchanged, or ValueError naming the first one apprise does not know."""
    for url in urls:
        if _plugin(url) is None:
            scheme = url.split("://", 1)[0] if "://" in url else url[:20]
            raise ValueError(
                f"{scheme!r}… is not a notifier URL apprise can use (e.g. mailto://, mailtos://, json://, "
                "slack://; see apprise's URL list)"
            )
    return tuple(urls)


def destination(url: str) -> Destination:
    """The Destination of one (checked) URL."""
    plugin = _plugin(url)
    shown = plugin.url(privacy=True).split("?", 1)[0] if plugin is not None else url.split("://", 1)[0]
    return Destination(hashlib.sha256(url.encode()).hexdigest()[:16], shown, url)


def message(alert: dict[str, Any]) -> tuple[str, str]:
    """(title, body) of an alert's notification."""
    evidence = alert.get("evidence") or {}
    title = f"axiswatch: {alert['series_name']} moved {alert['delta']:+.2f} (from {alert['start_day']})"
    lines = [
        evidence.get("summary", title),
        f"before {alert['before_mean']:+.2f} (n={alert['before_n']}) → after {alert['after_mean']:+.2f} "
        f"(n={alert['after_n']}); strength |t|={alert['strength']:.1f}, q={alert['q_value']:.3g}",
        f"alert {alert['alert_id']}: `axiswatch alerts show {alert['alert_id']}`",
    ]
    for art in (evidence.get("articles") or [])[:3]:
        lines.append(
            f"- {art.get('source_name')}: {art.get('title') or art.get('canonical_url')} ({art.get('day')})"
        )
    return title, "\n".join(lines)


def send(dest: Destination, title: str, body: str) -> str | None:
    """Send one notification; None when delivered, else the reason (never raises)."""
    notifier = apprise.Apprise()
    try:
        if not notifier.add(dest.url):
            return "apprise cannot use this URL"
        with apprise.LogCapture(level=logging.WARNING) as captured:  # type: ignore[no-untyped-call]
            ok = bool(notifier.notify(title=title, body=body, body_format=apprise.NotifyFormat.TEXT))
        reason = " ".join(captured.getvalue().split())
    except Exception as exc:  # a notifier plugin's own bug must not stop the others
        return f"{type(exc).__name__}: {exc}"[:MAX_ERROR]
    return None if ok else (reason.split(" - WARNING - ")[-1] or "not delivered")[:MAX_ERROR]


def pending(
    sink: Sink, dests: Sequence[Destination], attempts: int, since: datetime
) -> list[tuple[dict[str, Any], Destination]]:
    """(alert, destination) pairs not yet delivered and tried fewer than ``attempts`` times."""
    if not dests:
        return []
    params = {"keys": [d.key for d in dests], "attempts": attempts, "since": since}
    with sink.read() as con:
        found = dicts(con, "alerts_undelivered", params)
    by_key = {d.key: d for d in dests}
    return [(row, by_key[row["destination"]]) for row in found]


def deliver(sink: Sink, urls: Sequence[str], attempts: int, now: datetime) -> list[dict[str, Any]]:
    """Send every pending alert to every destination and record each attempt; the rows recorded."""
    dests = [destination(url) for url in urls]
    rows = []
    for alert, dest in pending(sink, dests, attempts, now - RECENT):
        alert["evidence"] = json.loads(alert.pop("evidence_json") or "{}")
        error = send(dest, *message(alert))
        if error:
            log.warning("alert %s not delivered to %s: %s", alert["alert_id"], dest.shown, error)
        rows.append(
            {
                "delivery_id": uuid.uuid4().hex,
                "alert_id": alert["alert_id"],
                "destination": dest.key,
                "shown_as": dest.shown,
                "ok": error is None,
                "error": error,
                "attempted_at": now,
            }
        )
    if rows:
        sink.apply([RecordDeliveries(rows)])
    return rows
