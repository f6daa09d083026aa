"""The registry of named write operations, and of the few record types their arguments may hold.

A write is a list of typed operations (``WriteOp`` dataclasses). Spool files name operations
(with their version) and record types by
these registered names, never by Python module or class, so moving code never strands a
pending spool and loading one never imports or constructs anything unregistered.
Operations live in the ``warehouse/*_ops.py`` modules (``article_ops``, ``ingest_ops``,
``score_ops``, …); ``warehouse.sink`` imports them all, so its registry is complete in every
process.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar, TypeVar

import duckdb

from warehouse.search_index import refresh_fts
from warehouse.topics import tag_topics


class WriteOp:
    """A typed write: a frozen dataclass whose fields are the write's arguments.

    ``apply`` runs it on a connection inside the sink's transaction. Each concrete operation is
    registered with ``write_op`` under a stable name and a version, which is how spool files
    refer to it (mypy checks every construction against the fields).
    """

    op_name: ClassVar[str] = ""
    op_version: ClassVar[int] = 1
    op_older: ClassVar[Mapping[int, Callable[..., WriteOp]]] = {}

    def apply(self, con: duckdb.DuckDBPyConnection) -> Any:
        """Run the write on ``con`` (inside a transaction the sink opened)."""
        raise NotImplementedError

    @classmethod
    def apply_many(cls, con: duckdb.DuckDBPyConnection, ops: Sequence[Any]) -> list[Any]:
        """Run several ops of this class in order inside one transaction; their results. An op
        type that can do it set-wise (a few statements for the lot) overrides this: on a
        DuckLake every statement asks the catalog, so a batch of statements costs like one."""
        return [op.apply(con) for op in ops]

    def args(self) -> tuple[Any, ...]:
        """The field values in declaration order (what a spool file stores)."""
        return tuple(getattr(self, f.name) for f in dataclasses.fields(self))  # type: ignore[arg-type]


Op = WriteOp
OPS: dict[str, type[WriteOp]] = {}
RECORDS: dict[str, type[Any]] = {}

T = TypeVar("T")
W = TypeVar("W", bound=type[WriteOp])


def write_op(
    name: str, version: int = 1, older: Mapping[int, Callable[..., WriteOp]] | None = None
) -> Callable[[W], W]:
    """Register a write operation class under a stable name and version (spool files use both);
    ``older`` reads the spooled arguments of each earlier version into a write of this one (an
    operation whose fields change bumps its version and keeps reading what older runs spooled)."""

    def register(cls: W) -> W:
        if not dataclasses.is_dataclass(cls):
            raise TypeError(f"write operation {name!r} must be a dataclass, not {cls!r}")
        if OPS.get(name, cls) is not cls:
            raise ValueError(f"two write operations are named {name!r}")
        if any(v >= version for v in older or {}):
            raise ValueError(f"write operation {name!r}: older versions must be below {version}")
        cls.op_name, cls.op_version, cls.op_older = name, version, dict(older or {})
        OPS[name] = cls
        return cls

    return register


def record(tag: str) -> Callable[[type[T]], type[T]]:
    """Register a dataclass an operation takes, so the spool can write it as tagged fields."""

    def register(cls: type[T]) -> type[T]:
        if not dataclasses.is_dataclass(cls):
            raise TypeError(f"spool record {tag!r} must be a dataclass, not {cls!r}")
        if RECORDS.get(tag, cls) is not cls:
            raise ValueError(f"two spool record types are tagged {tag!r}")
        RECORDS[tag] = cls
        return cls

    return register


def record_tag(value: Any) -> str | None:
    """The registered tag of a record instance (None when its type is not registered)."""
    for tag, cls in RECORDS.items():
        if type(value) is cls:
            return tag
    return None


@write_op("refresh_fts")
@dataclasses.dataclass(frozen=True)
class RefreshSearch(WriteOp):
    """Fill the search texts of new articles and rebuild the BM25 index when anything changed."""

    def apply(self, con: duckdb.DuckDBPyConnection) -> Any:
        """warehouse.search_index.refresh_fts."""
        return refresh_fts(con)


@write_op("tag_topics")
@dataclasses.dataclass(frozen=True)
class TagTopics(WriteOp):
    """Tag articles with the topics of a dictionary (only those not tagged with its digest)."""

    dictionary: dict[str, Any]

    def apply(self, con: duckdb.DuckDBPyConnection) -> Any:
        """warehouse.topics.tag_topics."""
        return tag_topics(con, self.dictionary)
