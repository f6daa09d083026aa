"""The ISO-week calendar of the report: weeks written '2026-W48', in a configurable time zone."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_TIMEZONE = "Asia/Seoul"
MAX_WEEKS = 104
_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


class ReportError(ValueError):
    """The report cannot be drawn as asked (bad week or time zone)."""


def parse_week(week: str) -> date:
    """The Monday of an ISO week written '2026-W48', or ReportError."""
    match = _WEEK.match(week.strip())
    if not match:
        raise ReportError(f"week {week!r} is not an ISO week like 2026-W48")
    try:
        return date.fromisocalendar(int(match.group(1)), int(match.group(2)), 1)
    except ValueError:
        raise ReportError(f"week {week!r} does not exist (ISO years have 52 or 53 weeks)") from None


def week_label(day: date) -> str:
    """The ISO week of a date, written '2026-W48'."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def zone(timezone: str) -> ZoneInfo:
    """The IANA time zone, or ReportError naming the bad value."""
    try:
        return ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ReportError(
            f"unknown time zone {timezone!r}; use an IANA name such as Asia/Seoul or UTC"
        ) from None


def current_week(timezone: str = DEFAULT_TIMEZONE, now: datetime | None = None) -> str:
    """The ISO week that ``now`` (default: the current time) falls in, in ``timezone``."""
    moment = now or datetime.now(UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return week_label(moment.astimezone(zone(timezone)).date())


def last_complete_week(timezone: str = DEFAULT_TIMEZONE, now: datetime | None = None) -> str:
    """The last ISO week that has ended by ``now`` in ``timezone`` (the week before the current one)."""
    monday = parse_week(current_week(timezone, now))
    return week_label(monday - timedelta(weeks=1))


def resolve_week(week: str | None, timezone: str = DEFAULT_TIMEZONE, now: datetime | None = None) -> str:
    """The ISO week a report is asked for: None → the last complete week, 'current' → this week,
    else a valid '2026-W48' that has begun (ReportError otherwise: a future week has no data)."""
    if week is None:
        return last_complete_week(timezone, now)
    this = current_week(timezone, now)
    if week.strip().lower() == "current":
        return this
    asked = week_label(parse_week(week))
    if asked > this:
        raise ReportError(f"week {asked} has not begun yet (the current week is {this} in {timezone})")
    return asked


def week_range(week: str) -> str:
    """'Mon 23 Nov – Sun 29 Nov 2026'; the year on both ends when the week spans two years."""
    monday = parse_week(week)
    sunday = monday + timedelta(days=6)
    start = f"{monday:%a %d %b %Y}" if monday.year != sunday.year else f"{monday:%a %d %b}"
    return f"{start} – {sunday:%a %d %b %Y}"


def week_window(week: str, weeks: int) -> tuple[str, ...]:
    """The ``weeks`` ISO weeks ending with ``week``, oldest first."""
    if not 1 <= weeks <= MAX_WEEKS:
        raise ReportError(f"weeks must be between 1 and {MAX_WEEKS}, not {weeks}")
    monday = parse_week(week)
    return tuple(week_label(monday - timedelta(weeks=i)) for i in range(weeks - 1, -1, -1))
