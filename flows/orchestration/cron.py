"""Cron expressions of the schedules (`serve`): five fields, names and steps, checked in one line."""

from __future__ import annotations

import re
from collections.abc import Sequence

_CRON_FIELDS = (("minute", 0, 59), ("hour", 0, 23), ("day of month", 1, 31), ("month", 1, 12))
_CRON_DOW = ("day of week", 0, 7)
_MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
_DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
_CRON_ITEM = re.compile(r"^(?P<base>\*|[0-9a-z]+(?:-[0-9a-z]+)?)(?:/(?P<step>[0-9]+))?$")


def _cron_value(text: str, names: Sequence[str], offset: int) -> int:
    """One cron value: a number, or a month/day name (jan, mon, ...)."""
    if text.isdigit():
        return int(text)
    if text in names:
        return names.index(text) + offset
    raise ValueError(f"{text!r} is not a number")


def _check_cron_field(text: str, spec: tuple[str, int, int], names: Sequence[str]) -> None:
    """One field of a cron expression: comma-separated `*`, `N`, `N-M`, each with an optional `/step`."""
    label, low, high = spec
    for item in text.lower().split(","):
        match = _CRON_ITEM.match(item)
        if match is None or match["step"] == "0":
            raise ValueError(f"{label} field {text!r} is not valid cron syntax")
        if match["base"] == "*":
            continue
        bounds = [_cron_value(part, names, low) for part in match["base"].split("-")]
        if not all(low <= value <= high for value in bounds) or bounds != sorted(bounds):
            raise ValueError(f"{label} field {text!r} must stay within {low}-{high}, low to high")


def check_cron(expression: str) -> str:
    """A standard 5-field cron expression (minute hour day-of-month month day-of-week)."""
    parts = expression.split()
    specs = (*_CRON_FIELDS, _CRON_DOW)
    names: tuple[Sequence[str], ...] = ((), (), (), _MONTHS, _DAYS)
    try:
        if len(parts) != 5:
            raise ValueError(f"it has {len(parts)} fields")
        for part, spec, spelled in zip(parts, specs, names, strict=True):
            _check_cron_field(part, spec, spelled)
    except ValueError as exc:
        raise ValueError(f"must be a 5-field cron expression such as '0 7 * * 1': {exc}") from None
    return " ".join(parts)
