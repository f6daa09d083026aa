"""Analyst labels: the sink operation that stores one, and the rows `labels export` writes.

A label is a plain JSON-able dict, so a write that meets a held lock can be spooled and
replayed later; its client-made ``label_id`` makes the replay add it exactly once.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import duckdb

from warehouse import query
from warehouse.ops import WriteOp, write_op

LABEL_VALUES = ("washington", "hedge", "beijing", "irrelevant")
LABEL_FIELDS = (
    "label_id",
    "article_id",
    "ordinal",
    "label",
    "analyst",
    "labelled_at",
    "note",
    "model_version",
    "shown_label",
    "passage_text",
)


class LabelError(ValueError):
    """A label row that cannot be stored (unknown label, missing analyst, ...)."""


def label_row(
    *,
    article_id: str,
    ordinal: int,
    label: str,
    analyst: str,
    now: datetime,
    passage_text: str,
    note: str = "",
    model_version: str | None = None,
    shown_label: str | None = None,
) -> dict[str, Any]:
    """A checked label row with a fresh label_id (JSON-able: the time is an ISO string)."""
    if label not in LABEL_VALUES:
        raise LabelError(f"label {label!r} is not one of {', '.join(LABEL_VALUES)}")
    analyst = analyst.strip()
    if not analyst or len(analyst) > 80:
        raise LabelError("an analyst name (1-80 characters) is required")
    return {
        "label_id": uuid.uuid4().hex,
        "article_id": article_id,
        "ordinal": int(ordinal),
        "label": label,
        "analyst": analyst,
        "labelled_at": now.isoformat(),
        "note": note.strip()[:2000] or None,
        "model_version": model_version,
        "shown_label": shown_label,
        "passage_text": passage_text,
    }


def add_label(con: duckdb.DuckDBPyConnection, row: dict[str, Any]) -> bool:
    """Insert one label row unless its label_id is already stored; return whether it was added."""
    before = _count(con, row["label_id"])
    con.execute(query.text("web_insert_label"), {k: row.get(k) for k in LABEL_FIELDS})
    return _count(con, row["label_id"]) > before


def add_label_for_passage(con: duckdb.DuckDBPyConnection, row: dict[str, Any]) -> bool:
    """Insert a label made while the warehouse was locked: the passage's text, model version and
    shown label are read now (LabelError when that passage is not scored); once per label_id."""
    cursor = con.execute(
        query.text("web_passage"), {"article_id": row["article_id"], "ordinal": row["ordinal"]}
    )
    found = cursor.fetchone()
    if found is None:
        raise LabelError(
            f"no scored passage {row['article_id']}:{row['ordinal']} for label {row['label_id']}"
        )
    columns = [d[0] for d in cursor.description or []]
    shown = dict(zip(columns, found, strict=True))
    full = row | {"passage_text": shown["text"], "model_version": shown["model_version"]}
    return bool(add_label(con, full | {"shown_label": shown["label"]}))


def _count(con: duckdb.DuckDBPyConnection, label_id: str) -> int:
    """Rows stored under one label_id (0 or 1)."""
    found = con.execute("SELECT count(*) FROM labels WHERE label_id = ?", [label_id]).fetchone()
    return int(found[0]) if found else 0


def export_rows(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Every analyst's latest label per passage, in the dev set's JSON-lines fields."""
    cursor = con.execute(query.text("web_labels_export"))
    columns = [d[0] for d in cursor.description or []]
    rows = [dict(zip(columns, r, strict=True)) for r in cursor.fetchall()]
    for row in rows:
        row["labelled_at"] = str(row["labelled_at"])
    return rows


@write_op("add_label")
@dataclass(frozen=True)
class AddLabel(WriteOp):
    """One analyst label row, never overwriting one stored under the same label_id."""

    row: dict[str, Any]

    def apply(self, con: duckdb.DuckDBPyConnection) -> bool:
        """add_label."""
        return add_label(con, self.row)


@write_op("add_label_for_passage")
@dataclass(frozen=True)
class AddLabelForPassage(WriteOp):
    """A label queued under a held lock: its passage text and model are looked up when applied."""

    row: dict[str, Any]

    def apply(self, con: duckdb.DuckDBPyConnection) -> bool:
        """add_label_for_passage."""
        return add_label_for_passage(con, self.row)
