"""The runs table's writes: a flow run opens its row (closing rows a killed process left open)
and closes it with its funnel counts; run ids are made by the client."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import duckdb

from warehouse import query
from warehouse.ops import WriteOp, write_op


def new_run_id() -> int:
    """A run id made by the client (microseconds since the epoch), so a run can start and
    spool its writes even while the warehouse is locked."""
    return time.time_ns() // 1000


def start_run(
    con: duckdb.DuckDBPyConnection,
    run_id: int,
    flow: str,
    now: datetime,
    trigger: str = "manual",
    prefect_run_id: str | None = None,
    model_version: str | None = None,
) -> int:
    """Close runs of this flow left open by a killed process, then open run ``run_id``."""
    query.rows(con, "run_interrupted", {"flow": flow, "now": now})
    query.rows(
        con,
        "run_start",
        {
            "run_id": run_id,
            "flow": flow,
            "trigger": trigger,
            "prefect_run_id": prefect_run_id,
            "now": now,
            "model_version": model_version,
        },
    )
    return run_id


def finish_run(con: duckdb.DuckDBPyConnection, run_id: int, now: datetime, counts: dict[str, Any]) -> None:
    """Close a run row with its funnel counts, failures by class and outcome."""
    fields = (
        "outcome",
        "feeds_polled",
        "feeds_failed",
        "discovered",
        "fetched",
        "extracted",
        "duplicates",
        "scored",
        "failed",
        "failures_json",
        "message",
    )
    params = {name: counts.get(name) for name in fields}
    query.rows(con, "run_finish", {"run_id": run_id, "now": now, **params})


@write_op("start_run")
@dataclass(frozen=True)
class StartRun(WriteOp):
    """The runs row of a flow run that starts."""

    run_id: int
    flow: str
    now: datetime
    trigger: str = "manual"
    prefect_run_id: str | None = None
    model_version: str | None = None

    def apply(self, con: duckdb.DuckDBPyConnection) -> int:
        """start_run."""
        return start_run(
            con, self.run_id, self.flow, self.now, self.trigger, self.prefect_run_id, self.model_version
        )


@write_op("finish_run")
@dataclass(frozen=True)
class FinishRun(WriteOp):
    """A run's outcome and funnel counts."""

    run_id: int
    now: datetime
    counts: dict[str, Any]

    def apply(self, con: duckdb.DuckDBPyConnection) -> None:
        """finish_run."""
        finish_run(con, self.run_id, self.now, self.counts)
