"""The DuckLake backend: catalog in PostgreSQL, table data as Parquet under a data path.

``AXISWATCH_WAREHOUSE=ducklake:postgres:<libpq conninfo>`` with ``AXISWATCH_WAREHOUSE_DATA_PATH``
(a local directory or ``s3://…``). The extensions come from their PyPI packages at the pinned
DuckDB version and are installed from those files into a private extension directory: nothing
is downloaded.

DuckLake has no primary keys, unique constraints, indexes or sequences, so the migrations are
translated (``lake_ddl``) and key uniqueness is kept by the write path: every keyed insert skips
keys already present, and every write transaction on the lake also bumps the one row of
``lake_write_gate``. Two concurrent write transactions therefore conflict at commit (DuckLake's
optimistic concurrency), the loser is rolled back and its write re-run by the sink, and it then
sees the winner's rows: nothing is stored twice.
"""

from __future__ import annotations

import contextlib
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import duckdb

from warehouse.base import MissingWarehouse, WarehouseError

PREFIX = "ducklake:postgres:"
ALIAS = "lake"
GATE_TABLE = "lake_write_gate"
INLINE_ROWS = 1000  # a write of up to this many rows goes into the catalog, not a new Parquet file
_EXTENSIONS = {
    "ducklake": "duckdb_extension_ducklake",
    "postgres_scanner": "duckdb_extension_postgres_scanner",
    "httpfs": "duckdb_extension_httpfs",
}


@dataclass(frozen=True)
class S3:
    """How to reach an ``s3://`` data path: the endpoint of an S3-compatible server (None: AWS),
    the region and the credentials (AXISWATCH_S3_* settings), given to DuckDB as a secret."""

    endpoint: str | None = None  # http(s)://host:port of MinIO, Ceph, …; None: AWS
    region: str = "us-east-1"
    key_id: str | None = None
    secret: str | None = field(default=None, repr=False)
    url_style: str | None = None  # path | vhost; None: path with an endpoint, vhost on AWS

    def secret_sql(self) -> str:
        """The CREATE SECRET statement (temporary: this DuckDB instance only) for these settings."""
        options = {"TYPE": "s3", "REGION": quote(self.region)}
        if self.key_id:
            options.update(KEY_ID=quote(self.key_id), SECRET=quote(self.secret or ""))
        if self.endpoint:
            parts = urlsplit(self.endpoint if "://" in self.endpoint else f"https://{self.endpoint}")
            options.update(ENDPOINT=quote(parts.netloc), USE_SSL=str(parts.scheme != "http").lower())
        options["URL_STYLE"] = quote(self.url_style or ("path" if self.endpoint else "vhost"))
        return (
            "CREATE OR REPLACE TEMPORARY SECRET axiswatch_s3 ("
            + ", ".join(f"{k} {v}" for k, v in options.items())
            + ")"
        )


@dataclass(frozen=True)
class Lake:
    """Where a DuckLake warehouse lives: its PostgreSQL catalog and its data path."""

    catalog: str  # libpq conninfo of the catalog database
    data_path: str  # local directory (made absolute) or s3://bucket/prefix/
    s3: S3 | None = field(default=None, repr=False)  # how to reach an s3:// data path

    def __post_init__(self) -> None:
        """A local data path is made absolute here, whoever builds the Lake: DuckLake records the
        path in the catalog at the first attach and refuses any other spelling later, so a
        relative path reaching it from one process and a resolved one from another would fail."""
        if not self.is_remote:
            object.__setattr__(self, "data_path", str(Path(self.data_path).expanduser().resolve()))

    def __str__(self) -> str:
        """The spec as AXISWATCH_WAREHOUSE takes it, plus the data path."""
        return f"{PREFIX}{self.catalog} (data {self.data_path})"

    @property
    def is_remote(self) -> bool:
        """Whether the table data lives on S3 (httpfs) rather than a local directory."""
        return self.data_path.startswith("s3://")


def parse(spec: str, data_path: str | None, s3: S3 | None = None) -> Path | Lake:
    """``duckdb:PATH`` → the file's Path; ``ducklake:postgres:<conninfo>`` → a Lake (needs a data path)."""
    if spec.startswith("duckdb:"):
        path = spec.removeprefix("duckdb:")
        if not path:
            raise ValueError("duckdb: needs a file path, e.g. duckdb:var/axiswatch.duckdb")
        return Path(path)
    if spec.startswith(PREFIX):
        catalog = spec.removeprefix(PREFIX).strip()
        if "dbname=" not in catalog:
            raise ValueError(
                "ducklake:postgres: needs a libpq conninfo with dbname=, e.g. "
                "ducklake:postgres:host=db port=5432 user=axiswatch dbname=lake"
            )
        if not data_path:
            raise ValueError(
                "a ducklake warehouse needs AXISWATCH_WAREHOUSE_DATA_PATH (a directory or s3://…)"
            )
        return Lake(catalog, data_path, s3 if data_path.startswith("s3://") else None)
    raise ValueError(f"unknown warehouse {spec!r}: use duckdb:PATH or ducklake:postgres:<libpq conninfo>")


def extension_file(name: str) -> Path:
    """The extension file shipped in its duckdb-extension-* package for the running DuckDB."""
    module = __import__(_EXTENSIONS[name])
    folder = Path(str(module.__file__)).parent / "extensions" / f"v{duckdb.__version__}"
    path = folder / f"{name}.duckdb_extension"
    if not path.exists():
        raise WarehouseError(f"{name} extension for duckdb {duckdb.__version__} not found at {path}")
    return path


def quote(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


_instances: dict[tuple[Lake, bool], duckdb.DuckDBPyConnection] = {}
_instances_lock = threading.Lock()


def session(lake: Lake, ext_dir: Path, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """A connection to the lake from this process's cached DuckDB instance that has it attached
    (attaching costs about half a second; a cursor of the instance costs nothing)."""
    key = (lake, read_only)
    with _instances_lock:
        if key not in _instances:
            _instances[key] = connect(lake, ext_dir, read_only=read_only)
        cursor = _instances[key].cursor()
    cursor.execute(f"USE {ALIAS}")
    return cursor


def forget(lake: Lake) -> None:
    """Close this process's cached instances of ``lake`` (after an error: the next use re-attaches)."""
    with _instances_lock:
        for key in [k for k in _instances if k[0] == lake]:
            with contextlib.suppress(duckdb.Error):
                _instances.pop(key).close()


def connect(lake: Lake, ext_dir: Path, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """A new in-memory DuckDB with the lake attached as ``lake`` and selected (read-only if asked)."""
    ext_dir.mkdir(parents=True, exist_ok=True)
    config: dict[str, str | bool | int | float | list[str]] = {
        "extension_directory": str(ext_dir),
        "autoinstall_known_extensions": False,
    }
    con = duckdb.connect(":memory:", config=config)
    try:
        for name in ("ducklake", "postgres_scanner", *(("httpfs",) if lake.is_remote else ())):
            con.execute(f"INSTALL {quote(str(extension_file(name)))}")
            con.execute(f"LOAD {name}")
        if lake.is_remote and lake.s3 is not None:
            con.execute(lake.s3.secret_sql())
        if not lake.is_remote:
            Path(lake.data_path).mkdir(parents=True, exist_ok=True)
        options = f"DATA_PATH {quote(lake.data_path)}, DATA_INLINING_ROW_LIMIT {INLINE_ROWS}" + (
            ", READ_ONLY" if read_only else ""
        )
        _attach(con, f"ATTACH {quote(PREFIX + lake.catalog)} AS {ALIAS} ({options})")
        con.execute(f"USE {ALIAS}")
        con.execute("SET ducklake_max_retry_count = 100")
    except duckdb.Error as exc:
        con.close()
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if read_only and "does not exist" in first.lower():
            raise MissingWarehouse(Path(lake.data_path)) from exc
        if "does not match existing data path" in first:
            raise WarehouseError(
                f"AXISWATCH_WAREHOUSE_DATA_PATH {lake.data_path} is not the data path this lake's catalog"
                f" was created with ({first.split('catalog', 1)[-1].strip()}): give every process that one"
            ) from exc
        raise WarehouseError(f"cannot open the DuckLake warehouse {lake}: {first}") from exc
    return con


def _attach(con: duckdb.DuckDBPyConnection, statement: str) -> None:
    """ATTACH, again after a moment when a concurrent first attach was creating the catalog's
    metadata tables (PostgreSQL then reports a duplicate key or an existing relation)."""
    for attempt in range(1, 6):
        try:
            con.execute(statement)
            return
        except duckdb.Error as exc:
            racing = any(m in str(exc).lower() for m in ("duplicate key", "already exists"))
            if not racing or attempt == 5:
                raise
            time.sleep(0.3 * attempt)


def ensure_gate(con: duckdb.DuckDBPyConnection) -> None:
    """Create the one-row write gate if it is missing (its own committed transaction)."""
    con.execute(f"CREATE TABLE IF NOT EXISTS {GATE_TABLE} (id INTEGER NOT NULL, writes BIGINT NOT NULL)")
    if not con.execute(f"SELECT count(*) FROM {GATE_TABLE}").fetchone()[0]:  # type: ignore[index]
        con.execute(f"INSERT INTO {GATE_TABLE} VALUES (1, 0)")


def pass_gate(con: duckdb.DuckDBPyConnection) -> None:
    """Bump the gate row inside the current transaction: concurrent writers now conflict at commit."""
    con.execute(f"UPDATE {GATE_TABLE} SET writes = writes + 1")


def is_conflict(exc: BaseException) -> bool:
    """Whether ``exc`` is DuckLake's commit conflict with a concurrent transaction (retry the write)."""
    text = str(exc).lower()
    return isinstance(exc, duckdb.Error) and "conflict" in text


_UNREACHABLE = (
    "unable to connect to postgres",
    "connection refused",
    "server closed the connection",
    "terminating connection",
    "could not connect",
    "connection to server",
)


def is_unreachable(exc: BaseException | None) -> bool:
    """Whether ``exc`` (or what caused it) says the PostgreSQL catalog cannot be reached now."""
    while exc is not None:
        text = str(exc).lower()
        if any(marker in text for marker in _UNREACHABLE):
            return True
        exc = exc.__cause__
    return False


_STATEMENTS = re.compile(r"(?:^|\n)\s*CREATE\s+(?:UNIQUE\s+)?(?:INDEX|SEQUENCE)\b[^;]*;", re.IGNORECASE)
_NEXTVAL = re.compile(r"\s+DEFAULT\s+nextval\('[^']*'\)", re.IGNORECASE)
_INLINE_KEY = re.compile(r"\s+(?:PRIMARY\s+KEY|UNIQUE)\b(?!\s*\()", re.IGNORECASE)
_TABLE_KEY = re.compile(r",\s*(?:--[^\n]*)?\s*PRIMARY\s+KEY\s*\([^)]*\)", re.IGNORECASE)


def lake_ddl(sql: str) -> str:
    """A migration's DDL as DuckLake takes it: no sequences, indexes, keys or CHECK constraints."""
    sql = _STATEMENTS.sub("\n", sql)
    sql = _NEXTVAL.sub("", sql)
    sql = _TABLE_KEY.sub("", sql)
    sql = _INLINE_KEY.sub("", sql)
    return _strip_checks(sql)


def _strip_checks(sql: str) -> str:
    """Remove every ``CHECK (…)`` clause (balanced parentheses)."""
    out, i = [], 0
    for match in re.finditer(r"\s+CHECK\s*\(", sql, re.IGNORECASE):
        if match.start() < i:
            continue
        depth, j = 1, match.end()
        while j < len(sql) and depth:
            depth += {"(": 1, ")": -1}.get(sql[j], 0)
            j += 1
        out.append(sql[i : match.start()])
        i = j
    return "".join(out) + sql[i:]
