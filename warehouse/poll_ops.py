"""Recording a batch of feed polls set-wise: one transaction and a few statements per batch.

A scheduled run over thousands of unchanged feeds (304) writes one attempt row and one source
update per feed; done one feed at a time that is three statements and a commit each. Here a
batch's attempt rows go in as one Arrow insert, the sources are updated by one UPDATE … FROM,
and entries are looked up and inserted only for the feeds that returned some.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import duckdb
import pyarrow as pa

from warehouse import query
from warehouse.db import insert_rows, registered
from warehouse.ingest_ops import PollRecord
from warehouse.ops import WriteOp, write_op

POLLED = pa.schema(
    [
        ("source_id", pa.string()),
        ("ok", pa.bool_()),
        ("etag", pa.string()),
        ("last_modified", pa.string()),
        ("moved_to", pa.string()),
        ("disable_reason", pa.string()),
        ("backoff_until", pa.timestamp("us", tz="UTC")),
    ]
)


def _new_entries(con: duckdb.DuckDBPyConnection, polls: Sequence[tuple[str, PollRecord]]) -> list[int]:
    """Insert the batch's entries not known yet (one lookup, one insert); set and return each
    poll's count, as if the polls were written one after the other."""
    ids = sorted({source_id for source_id, rec in polls if rec.entries})
    known: dict[str, set[str]] = {source_id: set() for source_id in ids}
    if ids:
        for source_id, guid in query.rows(con, "known_guids_of_sources", {"source_ids": ids}):
            known[source_id].add(guid)
    fresh: list[dict[str, Any]] = []
    added: list[int] = []
    for source_id, rec in polls:
        seen = known.setdefault(source_id, set())
        mine = [e for e in rec.entries if e["guid"] not in seen]
        seen.update(e["guid"] for e in mine)
        fresh.extend(mine)
        rec.fetch_row["entries_new"] = len(mine)
        added.append(len(mine))
    insert_rows(con, "entries", fresh, skip_existing=("source_id", "guid"))
    return added


def record_polls(
    con: duckdb.DuckDBPyConnection, polls: Sequence[tuple[str, PollRecord]], now: datetime
) -> list[int]:
    """Write a batch of polls (attempt rows, new entries, source state) in one transaction;
    return the entries each added."""
    added = _new_entries(con, polls)
    insert_rows(con, "feed_fetches", [rec.fetch_row for _, rec in polls])
    rows = [rec.source_state(source_id) for source_id, rec in polls]
    with registered(con, "polled_sources", "sources", rows, schema=POLLED):
        con.execute(query.text("sources_after_polls"), {"now": now})
    return added


@write_op("record_polls")
@dataclass(frozen=True)
class RecordPolls(WriteOp):
    """A batch of feed polls in one transaction."""

    polls: Sequence[tuple[str, PollRecord]]
    now: datetime

    def apply(self, con: duckdb.DuckDBPyConnection) -> list[int]:
        """record_polls."""
        return record_polls(con, self.polls, self.now)
