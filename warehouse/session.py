"""Session set-up shared by every reader: the time zone the views bucket weeks in, and the code's
own view definitions shadowing a (read-only, older) warehouse's for a block."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import duckdb

from warehouse.base import VIEWS_DIR, WarehouseError

_CREATE_VIEW = re.compile(r"^CREATE OR REPLACE VIEW (\w+)", re.MULTILINE)


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


@contextmanager
def session_timezone(con: duckdb.DuckDBPyConnection, timezone: str) -> Iterator[None]:
    """Set axiswatch_tz for the block and restore the caller's value afterwards."""
    row = con.execute("SELECT getvariable('axiswatch_tz')").fetchone()
    previous = row[0] if row else None
    use_timezone(con, timezone)
    try:
        yield
    finally:
        if previous is None:
            con.execute("RESET VARIABLE axiswatch_tz")
        else:
            con.execute("SET VARIABLE axiswatch_tz = $tz", {"tz": previous})


@contextmanager
def code_views(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Shadow the stored views with this code's views/*.sql as TEMP views for the block.

    The report then works on a warehouse opened read-only whose stored views are missing or
    older than the code, and always computes with the definitions it was tested with.
    """
    created = []
    try:
        for file in sorted(VIEWS_DIR.glob("*.sql")):
            text = file.read_text(encoding="utf-8")
            match = _CREATE_VIEW.search(text)
            if match is None:
                raise WarehouseError(f"{file.name} does not create a view with CREATE OR REPLACE VIEW")
            name = match.group(1)
            temp = text[: match.start()] + f"CREATE OR REPLACE TEMP VIEW {name}" + text[match.end() :]
            try:
                con.execute(temp)
            except duckdb.CatalogException:
                continue  # its tables come with a migration this (read-only) warehouse has not had yet
            created.append(match.group(1))
        yield
    finally:
        for name in reversed(created):
            con.execute(f"DROP VIEW IF EXISTS temp.main.{name}")
