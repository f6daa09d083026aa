"""`axiswatch labels export` and `axiswatch web`: the analyst workbench's commands."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import IO, Any

from flows.settings import Settings
from warehouse.db import reader
from warehouse.labels_ops import export_rows
from warehouse.query import has_table

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def export_labels(settings: Settings, out: IO[str]) -> int:
    """Write every analyst's latest label per passage as dev-set JSON lines; return the count."""
    with reader(settings.location, patience=settings.lock_patience_seconds) as con:
        rows = export_rows(con) if has_table(con, "labels") else []
    for row in rows:
        out.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
    return len(rows)


def export_to(settings: Settings, path: Path) -> int:
    """Export the labels to a file (written whole, then renamed into place)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        count = export_labels(settings, fh)
    tmp.replace(path)
    return count


def cmd_labels_export(args: argparse.Namespace, settings: Settings) -> int:
    """`axiswatch labels export [--out FILE]`: the labels in the dev set's JSON-lines format."""
    count = export_labels(settings, sys.stdout) if args.out is None else export_to(settings, args.out)
    if args.out is not None and not args.quiet:
        print(f"exported {count} labels to {args.out}", file=sys.stderr)
    return EXIT_OK


def cmd_web(args: argparse.Namespace, settings: Settings) -> int:
    """`axiswatch web`: serve the analyst workbench until interrupted."""
    from flows.web.app import WebError, serve

    try:
        if not args.quiet:
            print(
                f"axiswatch web: http://{args.host}:{args.port}/ (warehouse {settings.location})",
                file=sys.stderr,
            )
        serve(settings, host=args.host, port=args.port, token=args.token)
    except WebError as exc:
        print(f"axiswatch web: {exc}", file=sys.stderr)
        return EXIT_USAGE
    return EXIT_OK


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add `web` and `labels export` to the main parser's subcommands."""
    p = sub.add_parser("web", parents=[common], help="the analyst workbench: browse, search and label")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (non-loopback needs --token)")
    p.add_argument("--port", type=int, default=8765, help="port (default 8765)")
    p.add_argument("--token", default=None, help="access token required on every request")
    p.set_defaults(func=cmd_web)
    labels = sub.add_parser("labels", help="analyst labels")
    actions = labels.add_subparsers(dest="labels_command", metavar="{export}", required=True)
    p = actions.add_parser("export", parents=[common], help="write the labels as dev-set JSON lines")
    p.add_argument("--out", type=Path, default=None, help="output file (default: stdout)")
    p.set_defaults(func=cmd_labels_export)
