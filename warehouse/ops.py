"""The registry of named write operations, and of the few record types their arguments may hold.

A write is a list of ``(op name, args)``. Spool files name operations and record types by
these registered names, never by Python module or class, so moving code never strands a
pending spool and loading one never imports or constructs anything unregistered.
Operations live in ``warehouse/ingest_ops.py`` and ``warehouse/score_ops.py``;
``warehouse.sink`` imports both, so its registry is complete in every process.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, TypeVar

from warehouse.search_index import refresh_fts
from warehouse.topics import tag_topics

Op = tuple[str, tuple[Any, ...]]
OPS: dict[str, Callable[..., Any]] = {}
RECORDS: dict[str, type[Any]] = {}

T = TypeVar("T")


def op(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a write operation under a stable name (spool files refer to it by name)."""

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        if OPS.get(name, fn) is not fn:
            raise ValueError(f"two write operations are named {name!r}")
        OPS[name] = fn
        return fn

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


op("refresh_fts")(refresh_fts)
op("tag_topics")(tag_topics)
