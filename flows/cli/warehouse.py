"""`axiswatch warehouse copy`: move an existing warehouse to another backend (warehouse/copy.py)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from flows.cli.texttable import table
from flows.settings import Settings
from warehouse.copy import copy_warehouse, verified
from warehouse.lake import parse

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


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add `warehouse copy` to the main parser's subcommands."""
    group = sub.add_parser("warehouse", help="warehouse maintenance across backends")
    actions = group.add_subparsers(dest="warehouse_command", metavar="{copy}", required=True)
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
