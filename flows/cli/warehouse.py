"""`axiswatch warehouse copy`: move an existing warehouse to another backend (warehouse/copy.py);
`axiswatch warehouse maintain`: keep a DuckLake's catalog small (warehouse/lake_maintenance.py)."""

from __future__ import annotations

import argparse
import sys
from datetime import timedelta
from typing import Any

import duckdb

from flows.cli.texttable import table
from flows.settings import Settings
from warehouse.base import WarehouseError
from warehouse.copy import copy_warehouse, verified
from warehouse.errors import first_line
from warehouse.lake import Lake, parse
from warehouse.lake_maintenance import maintain

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def cmd_copy(args: argparse.Namespace, settings: Settings) -> int:
    """Copy every table, print per-table counts and whether keys match; exit 1 if not verified."""
    try:
        source = parse(args.source, args.from_data_path or settings.warehouse_data_path, settings.s3)
        target = parse(args.target, args.to_data_path or settings.warehouse_data_path, settings.s3)
    except ValueError as exc:
        print(f"axiswatch warehouse copy: {exc}", file=sys.stderr)
        return EXIT_USAGE
    results = copy_warehouse(source, target)
    rows = [
        (r.table, str(r.source_rows), str(r.copied), str(r.target_rows), "yes" if r.keys_match else "NO")
        for r in results
    ]
    print(table(["table", "rows in source", "copied now", "rows in target", "same keys"], rows))
    ok = verified(results)
    print(f"{source} → {target}: " + ("verified (row counts and key sets match)" if ok else "NOT verified"))
    return EXIT_OK if ok else EXIT_FAILED


def cmd_maintain(args: argparse.Namespace, settings: Settings) -> int:
    """Flush, expire, compact and clean up a DuckLake, printing what was done; on a DuckDB file,
    one line saying there is nothing to do (exit 0)."""
    location = settings.location
    if not isinstance(location, Lake):
        print(
            f"axiswatch warehouse maintain: the warehouse is a DuckDB file ({location}): nothing to "
            "maintain (flushing, snapshot expiry and file clean-up are for a DuckLake)"
        )
        return EXIT_OK
    days = args.retention_days if args.retention_days is not None else settings.lake_retention_days
    if days <= 0:
        print("axiswatch warehouse maintain: --retention-days must be > 0", file=sys.stderr)
        return EXIT_USAGE
    retention = timedelta(days=days)
    try:
        done = maintain(location, retention, compact=not args.no_compact)
    except (WarehouseError, duckdb.Error) as exc:
        print(f"axiswatch warehouse maintain: {first_line(exc)}", file=sys.stderr)
        return EXIT_FAILED
    print(f"axiswatch warehouse maintain: {location}")
    for line in done.lines(retention):
        print(f"  {line}")
    return EXIT_OK


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add `warehouse copy` and `warehouse maintain` to the main parser's subcommands."""
    group = sub.add_parser("warehouse", help="warehouse maintenance across backends")
    actions = group.add_subparsers(dest="warehouse_command", metavar="{copy,maintain}", required=True)
    p = actions.add_parser(
        "copy", parents=[common], help="copy a warehouse to another backend (verified; a re-run adds nothing)"
    )
    p.add_argument("--from", dest="source", required=True, help="duckdb:PATH or ducklake:postgres:<conninfo>")
    p.add_argument("--to", dest="target", required=True, help="duckdb:PATH or ducklake:postgres:<conninfo>")
    p.add_argument("--from-data-path", default=None, help="data path of a ducklake --from")
    p.add_argument(
        "--to-data-path",
        default=None,
        help="data path of a ducklake --to (default AXISWATCH_WAREHOUSE_DATA_PATH)",
    )
    p.set_defaults(func=cmd_copy)
    m = actions.add_parser(
        "maintain",
        parents=[common],
        help="a DuckLake: flush inlined rows to Parquet, expire old snapshots, compact, remove old files",
    )
    m.add_argument(
        "--retention-days",
        type=float,
        default=None,
        help="keep this much history (default AXISWATCH_LAKE_RETENTION_DAYS)",
    )
    m.add_argument("--no-compact", action="store_true", help="skip merging and rewriting files")
    m.set_defaults(func=cmd_maintain)
