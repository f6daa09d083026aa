"""The `axiswatch` command line: flows/cli/commands.py parses, one module per command group."""

from __future__ import annotations

from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """The `axiswatch` console script (imports the commands only when run)."""
    from flows.cli.commands import main as run

    return run(argv)
