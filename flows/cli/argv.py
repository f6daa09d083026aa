"""Checks on the parsed command line that argparse does not make: text DuckDB can take."""

from __future__ import annotations

import argparse
from pathlib import Path


def not_utf8(args: argparse.Namespace) -> str | None:
    """One line naming the first argument that is not valid UTF-8 (undecodable bytes in argv reach
    Python as lone surrogates, which DuckDB cannot take), or None."""
    for name, value in vars(args).items():
        if isinstance(value, str | Path):
            try:
                str(value).encode("utf-8")
            except UnicodeEncodeError as exc:
                bad = str(value)[exc.start].encode("utf-8", "surrogateescape").hex()
                return (
                    f"argument {name} is not valid UTF-8 (byte 0x{bad} at {exc.start}): give it as UTF-8 text"
                )
    return None
