"""Session set-up shared by every reader: the time zone the views bucket weeks in."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import duckdb

from warehouse.base import WarehouseError


class UnknownTimezone(WarehouseError, ValueError):
    """A time zone name that Python or DuckDB does not know."""


def use_timezone(con: duckdb.DuckDBPyConnection, timezone: str) -> None:
    """Make this connection's views bucket weeks in ``timezone`` (sets the variable axiswatch_tz)."""
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise UnknownTimezone(
            f"unknown time zone {timezone!r}; use an IANA name such as Asia/Seoul or UTC"
        ) from None
    known = con.execute("SELECT count(*) FROM pg_timezone_names() WHERE name = $tz", {"tz": timezone})
    if (known.fetchone() or (0,))[0] == 0:
        raise UnknownTimezone(
            f"DuckDB does not know the time zone {timezone!r}; use an IANA name such as UTC"
        )
    con.execute("SET VARIABLE axiswatch_tz = $tz", {"tz": timezone})
