"""A locked-down read-only session for ad hoc SQL: it cannot write the warehouse or any file.

It holds by construction, in layers, before any user statement runs:
- the warehouse is attached read-only, and the extensions it needs are loaded from their PyPI
  packages; extension auto-install and auto-load are off;
- on a DuckDB file, the local file system is then switched off altogether (DuckDB keeps reading
  the open warehouse, but no statement can open, create or overwrite a local file, the warehouse
  file itself included, which DuckDB would otherwise allow even with external access off);
  ``--allow-files DIR`` exposes DIR through a read-only file system as ``files://NAME``;
- on a DuckLake, whose Parquet files are read through the local file system or S3, only the
  lake's data path (and ``files://``) is reachable, the catalog is attached READ_ONLY;
- external access is off and the configuration is locked, so nothing can undo the above;
- and each statement must be a read by DuckDB's own parser (``warehouse.sql_guard``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
from fsspec.implementations.dirfs import DirFileSystem
from fsspec.implementations.local import LocalFileSystem

from warehouse.db import Location, WarehouseError, load_fts, reader
from warehouse.lake import Lake
from warehouse.sql_guard import SandboxRefused, check_query

__all__ = ["FILES_PROTOCOL", "ReadOnlyFiles", "SandboxRefused", "check_query", "sandboxed_reader"]

FILES_PROTOCOL = "files"


class ReadOnlyFiles(DirFileSystem):  # type: ignore[misc]
    """One directory, read-only, as ``files://NAME``: every write, move or delete raises."""

    protocol = FILES_PROTOCOL

    def __init__(self, root: Path) -> None:
        """Serve the files under ``root`` (resolved; symlinks out of it are refused on open)."""
        self.root = root.resolve()
        super().__init__(path=str(self.root), fs=LocalFileSystem())

    def _strip_protocol(self, path: Any) -> Any:
        """``files://a/b.csv`` → ``a/b.csv``."""
        return path.removeprefix(f"{FILES_PROTOCOL}://") if isinstance(path, str) else path

    def _inside(self, path: str) -> str:
        """The path, refused if it resolves outside the root (``..``, symlinks)."""
        real = Path(self._join(self._strip_protocol(path))).resolve()
        if real != self.root and self.root not in real.parents:
            raise PermissionError(f"{path}: outside the directory given with --allow-files")
        return str(path)

    def open(self, path: str, mode: str = "rb", *args: Any, **kwargs: Any) -> Any:
        """Open for reading only."""
        if set(mode) & set("wax+"):
            raise PermissionError(f"{path}: files are read-only in axiswatch sql")
        return super().open(self._inside(path), mode, *args, **kwargs)

    def _refuse(self, *args: Any, **kwargs: Any) -> Any:
        """Any change to the directory."""
        raise PermissionError("files are read-only in axiswatch sql")

    mkdir = makedirs = rm = rm_file = rmdir = mv = cp_file = copy = put_file = touch = pipe_file = _refuse


@contextmanager
def sandboxed_reader(
    path: Location, *, allow_dir: Path | None = None, patience: float = 10.0
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only warehouse connection that cannot write, install, attach or (by default) read files."""
    if allow_dir is not None and not allow_dir.is_dir():
        raise WarehouseError(f"--allow-files {allow_dir}: not a directory")
    with reader(path, patience=patience, fresh=True) as con:
        if isinstance(path, Path):
            load_fts(con)
        _lock_down(con, path, allow_dir)
        yield con


def _lock_down(con: duckdb.DuckDBPyConnection, path: Location, allow_dir: Path | None) -> None:
    """Switch off every way out, in an order where each switch is still allowed, then lock it."""
    allowed: list[str] = []
    if allow_dir is not None:
        con.register_filesystem(ReadOnlyFiles(allow_dir))
        allowed.append(f"{FILES_PROTOCOL}://")
    if isinstance(path, Lake):
        allowed.append(path.data_path.rstrip("/") + "/")
    con.execute("SET autoinstall_known_extensions = false")
    con.execute("SET autoload_known_extensions = false")
    con.execute("SET allowed_directories = ?", [allowed])
    con.execute("SET enable_external_access = false")
    if isinstance(path, Path) or (isinstance(path, Lake) and path.is_remote):
        con.execute("SET disabled_filesystems = 'LocalFileSystem'")
    con.execute("SET lock_configuration = true")
