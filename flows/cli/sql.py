"""`axiswatch sql`: ad hoc SQL on the warehouse, read-only, with one-line errors."""

from __future__ import annotations

import argparse
import csv
import io
import os
import re
import sys
import threading
import time
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

import flows.cli.jsonout as jsonout
import flows.cli.texttable as texttable
from flows.cli.common import EXIT_FAILED, EXIT_OK, warehouse_message
from flows.settings import Settings
from warehouse.db import Location, WarehouseError
from warehouse.sandbox import check_query, sandboxed_reader

FORMATS = ("table", "csv", "json")


class SqlError(RuntimeError):
    """A query could not run; the message is one line an analyst can act on."""


def _one_line(exc: BaseException) -> str:
    """The first meaningful line of a DuckDB error."""
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def explain(exc: duckdb.Error) -> str:
    """Turn a DuckDB error into an actionable one-line message."""
    message = _one_line(exc)
    kind = re.search(r'statement of type "(\w+)"', message)
    if "read-only" in message or kind:
        what = kind.group(1) if kind else "a write"
        return (
            f"the warehouse is opened read-only: {what} is not allowed here "
            "(axiswatch sql never changes data; the pipeline is the only writer)"
        )
    if isinstance(exc, duckdb.PermissionException) or "file system" in message.lower():
        return (
            f"{message.removeprefix('Permission Error: ')} — axiswatch sql reads no files unless "
            "given --allow-files DIR, and then only as 'files://NAME' under DIR"
        )
    if isinstance(exc, duckdb.ParserException):
        return f"SQL syntax error: {message.removeprefix('Parser Error: ')}"
    if isinstance(exc, duckdb.CatalogException):
        return f"{message} (list tables with: SHOW TABLES)"
    if isinstance(exc, duckdb.InterruptException):
        return "the query was cancelled"
    return message


def run_query(
    db_path: Location,
    query: str,
    timezone: str = "Asia/Seoul",
    allow_dir: Path | None = None,
    timeout: float = 300.0,
) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Run one query (or a script: the last statement's rows are returned) in the read-only
    sandbox (warehouse/sandbox.py); the views bucket weeks in ``timezone``. A query still running
    after ``timeout`` seconds, or on Ctrl-C, is cancelled."""
    from warehouse.session import use_timezone

    if not query.strip():
        raise SqlError("empty query")
    try:
        with sandboxed_reader(db_path, allow_dir=allow_dir) as con:
            use_timezone(con, timezone)
            check_query(con, query)
            return _execute(con, query, timeout)
    except (WarehouseError, ValueError) as exc:  # ValueError: an unknown time zone
        raise SqlError(str(exc)) from exc
    except duckdb.Error as exc:
        raise SqlError(explain(exc)) from exc


def _execute(
    con: duckdb.DuckDBPyConnection, query: str, timeout: float
) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Run the query on a worker thread so that a timeout or Ctrl-C can interrupt DuckDB."""
    outcome: dict[str, Any] = {}

    def work() -> None:
        try:
            cursor = con.execute(query)
            columns = [d[0] for d in cursor.description or []]
            outcome["result"] = (columns, cursor.fetchall() if columns else [])
        except BaseException as exc:  # handed to the caller's thread
            outcome["error"] = exc

    worker = threading.Thread(target=work, name="axiswatch-sql", daemon=True)
    deadline = time.monotonic() + timeout
    try:  # a Ctrl-C from the moment the query may run cancels it
        worker.start()
        while worker.is_alive() and time.monotonic() < deadline:
            # short waits: the kernel may hand SIGINT to one of DuckDB's threads, and then only the
            # main thread's next check sees it (a single long join slept through it until timeout)
            worker.join(0.1)
    except KeyboardInterrupt:
        _cancel(con, worker, "cancelled (Ctrl-C)")
        raise SqlError("cancelled (Ctrl-C)") from None
    if worker.is_alive():
        why = f"cancelled after {timeout:g} s (AXISWATCH_SQL_TIMEOUT_SECONDS sets the limit)"
        _cancel(con, worker, why)
        raise SqlError(why)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"]  # type: ignore[no-any-return]


def _cancel(con: duckdb.DuckDBPyConnection, worker: threading.Thread, why: str) -> None:
    """Interrupt the running statement and wait (briefly) for the worker to stop.

    If DuckDB has not stopped it by then, closing the connection would wait for the statement to
    finish (seen in a fresh-clone test run: a Ctrl-C'd process still running 20 s later), so the
    process leaves at once: the sandbox is read-only, there is nothing to write or roll back."""
    con.interrupt()
    worker.join(5.0)
    if worker.is_alive():
        sys.stdout.flush()
        sys.stderr.write(f"axiswatch sql: {why}; DuckDB did not stop the statement, leaving without it\n")
        sys.stderr.flush()
        os._exit(1)


def _plain(value: Any) -> Any:
    """A JSON/CSV-friendly version of a DuckDB value."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def _cell(value: Any) -> str:
    """One table cell, in full: NULL shown as empty."""
    return "" if value is None else str(_plain(value))


def render(
    columns: Sequence[str],
    rows: Sequence[tuple[Any, ...]],
    fmt: str,
    max_width: int = texttable.DEFAULT_MAX_WIDTH,
) -> str:
    """Render a result as an aligned table (long cells wrapped at ``max_width`` columns, never
    cut), CSV or a JSON array of objects."""
    if fmt == "json":
        return jsonout.dumps([dict(zip(columns, map(_plain, r), strict=True)) for r in rows], indent=1)
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([[_plain(v) for v in r] for r in rows])
        return out.getvalue().rstrip("\n")
    cells = [[_cell(v) for v in r] for r in rows]
    note = ""
    if texttable.wrapped(cells, max_width):
        note = f"; long cells wrapped at {max_width} columns" if max_width else "; multi-line cells"
    plural = "s" if len(rows) != 1 else ""
    return f"{texttable.table(columns, cells, max_width)}\n({len(rows)} row{plural}{note})"


def read_query(text: str | None, file: Path | None) -> str:
    """The query from the argument or from -f FILE (exactly one of them)."""
    if (text is None) == (file is None):
        raise SqlError('give a query ("SELECT ...") or -f FILE, not both or neither')
    if file is not None:
        try:
            return file.read_text(encoding="utf-8")
        except OSError as exc:
            raise SqlError(f"cannot read {file}: {exc.strerror}") from exc
    return text or ""


def command(args: argparse.Namespace, settings: Settings) -> int:
    """`axiswatch sql`: run ad hoc SQL on the warehouse, read-only."""
    try:
        query = read_query(args.query, args.file)
        columns, rows = run_query(
            settings.location,
            query,
            settings.timezone,
            allow_dir=args.allow_files,
            timeout=settings.sql_timeout_seconds,
        )
    except SqlError as exc:
        print(f"axiswatch sql: {warehouse_message(exc, settings)}", file=sys.stderr)
        return EXIT_FAILED
    if columns:
        print(render(columns, rows, "json" if args.json else args.format, args.max_width))
    return EXIT_OK


def register(sub: Any, with_json: argparse.ArgumentParser) -> None:
    """Add `axiswatch sql`."""
    p = sub.add_parser("sql", parents=[with_json], help="run ad hoc SQL on the warehouse (read-only)")
    p.add_argument("query", nargs="?", help="SQL text (or use -f FILE)")
    p.add_argument("-f", "--file", type=Path, help="read the SQL from a file")
    p.add_argument("--format", choices=("table", "csv", "json"), default="table", help="--json: same as json")
    p.add_argument(
        "--max-width",
        type=int,
        default=60,
        metavar="N",
        help="table: wrap cells wider than N columns onto more lines, never cut (0: no wrapping)",
    )
    p.add_argument(
        "--allow-files",
        type=Path,
        metavar="DIR",
        help="let queries read files under DIR, read-only, as files://NAME",
    )
    p.set_defaults(func=command)
