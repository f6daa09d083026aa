"""A locked-down read-only session for ad hoc SQL: no file writes, no installs, no network.

The warehouse is opened read-only, the fts extension is loaded from its PyPI package path,
then external access, extension auto-install and auto-load are switched off and the
configuration is locked, so no later statement can give any of it back. Only statements that
read (SELECT, EXPLAIN, ...) are accepted at all; ``allow_dir`` lets them read files under one
directory, never write.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from warehouse.db import Location, WarehouseError, load_fts, reader

READ_STATEMENTS = frozenset({"SELECT", "EXPLAIN"})
_PARENT_SEGMENT = re.compile(r"(^|[/\\])\.\.([/\\]|$)")


class SandboxRefused(WarehouseError):
    """A statement that could change data or files, or reach outside the sandbox."""


def _lock_down(con: duckdb.DuckDBPyConnection, allow_dir: Path | None) -> None:
    """Switch off external access (keeping ``allow_dir`` readable) and lock the configuration."""
    if allow_dir is not None:
        con.execute("SET allowed_directories = ?", [[str(allow_dir.resolve()) + "/"]])
    con.execute("SET autoinstall_known_extensions = false")
    con.execute("SET autoload_known_extensions = false")
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")


@contextmanager
def sandboxed_reader(
    path: Location, *, allow_dir: Path | None = None, patience: float = 10.0
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only warehouse connection that cannot write, install, attach or (by default) read files."""
    if allow_dir is not None and not allow_dir.is_dir():
        raise WarehouseError(f"--allow-files {allow_dir}: not a directory")
    with reader(path, patience=patience, fresh=True) as con:
        load_fts(con)
        _lock_down(con, allow_dir)
        yield con


def check_statements(con: duckdb.DuckDBPyConnection, query: str, *, files_allowed: bool = False) -> None:
    """Refuse the whole script if any statement is not a read (COPY, EXPORT, INSTALL, SET, PRAGMA,
    ...), and, when files are allowed, any literal ``..`` path segment (DuckDB does not resolve
    them against allowed_directories)."""
    for statement in con.extract_statements(query):
        kind = statement.type.name
        if kind not in READ_STATEMENTS:
            raise SandboxRefused(
                f"read-only: {kind} is not allowed (axiswatch sql only reads: SELECT, WITH, SHOW, "
                "DESCRIBE, EXPLAIN; it never writes, exports, installs, attaches or changes settings)"
            )
    if files_allowed and _PARENT_SEGMENT.search(query):
        raise SandboxRefused("a '..' path segment is not allowed with --allow-files (name files under DIR)")
