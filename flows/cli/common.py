"""What every command shares: exit codes, the Settings built from flags, one-line warehouse errors."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import flows.cli.jsonout as jsonout
from flows.settings import Settings

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def settings_from_args(args: argparse.Namespace) -> Settings:
    """Build the one Settings object: defaults, then AXISWATCH_* env, then flags."""
    overrides = {
        "db_path": getattr(args, "db", None),
        "data_dir": getattr(args, "data_dir", None),
        "sources_file": getattr(args, "sources", None),
        "model_version": getattr(args, "model", None),
        "reports_dir": getattr(args, "reports_dir", None),
    }
    return Settings.load(**{k: v for k, v in overrides.items() if v is not None})


def warehouse_message(exc: BaseException, settings: Settings) -> str:
    """A warehouse error as one line; a missing warehouse gets the command that creates it."""
    from warehouse.db import MissingWarehouse

    missing = exc if isinstance(exc, MissingWarehouse) else exc.__cause__
    if not isinstance(missing, MissingWarehouse):
        return str(exc)
    flags = ""
    if settings.db_path is not None:
        flags = f" --db {settings.db_path}"
    elif settings.data_dir != Path("var"):
        flags = f" --data-dir {settings.data_dir}"
    hint = f"{missing}; `axiswatch run{flags}` creates it"
    demo = settings.data_dir / "demo" / "axiswatch.duckdb"
    if settings.db_path is None and demo.exists():
        hint += f" (the demo's warehouse is {demo}: add --data-dir {demo.parent})"
    return hint


def print_result(args: argparse.Namespace, payload: dict[str, Any], lines: list[str]) -> None:
    """Print a result as JSON (--json) or as human lines (unless --quiet)."""
    if getattr(args, "json", False):
        print(jsonout.dumps(payload))
    elif not getattr(args, "quiet", False):
        print("\n".join(lines))
