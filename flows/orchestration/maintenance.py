"""The ``lake-maintenance`` flow: warehouse/lake_maintenance.py's pass, on a schedule.

``axiswatch serve`` and ``axiswatch deploy`` register it (``lake_maintenance_cron``, daily at 04:45
in ``timezone`` by default) when the warehouse is a DuckLake; ``axiswatch warehouse maintain``
runs the same pass by hand. On a DuckDB file there is nothing to maintain: the run says so in one
line and completes. Import this module only after ``flows.orchestration.prefect_env.configure``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import duckdb
from prefect import flow, get_run_logger
from prefect.client.schemas.objects import State

from flows.orchestration import faults
from flows.settings import Settings
from warehouse import health
from warehouse.base import WarehouseError
from warehouse.errors import first_line
from warehouse.lake import Lake
from warehouse.lake_maintenance import maintain

NAME = "lake-maintenance"


def not_a_lake(location: object) -> str:
    """The one line said when the warehouse is a DuckDB file."""
    return (
        f"the warehouse is a DuckDB file ({location}): nothing to maintain "
        "(flushing, snapshot expiry and file clean-up are for a DuckLake)"
    )


@flow(name=NAME, log_prints=False)
def lake_maintenance_flow(
    overrides: dict[str, Any] | None = None, trigger: str = "manual"
) -> dict[str, Any] | State:
    """Flush the lake's inlined rows, expire old snapshots, compact and remove replaced files."""
    settings = Settings.load(**(overrides or {}))
    logger = get_run_logger()
    location = settings.location
    if not isinstance(location, Lake):
        logger.info(not_a_lake(location))
        return {"skipped": not_a_lake(location)}
    retention = timedelta(days=settings.lake_retention_days)
    try:
        done = maintain(location, retention)
    except (WarehouseError, duckdb.Error) as exc:  # the catalog unreachable, a path refused, …
        return faults.final_failure(health.describe(exc, location) or first_line(exc))
    for line in done.lines(retention):
        logger.info("%s", line)
    if trigger == "schedule":
        print(f"scheduled {NAME}: " + "; ".join(done.lines(retention)[:2]), flush=True)
    return {
        "rows_flushed": done.total_flushed,
        "snapshots_expired": done.snapshots_expired,
        "files_removed": len(done.files_removed),
        "catalog_bytes_before": done.catalog_bytes_before,
        "catalog_bytes_after": done.catalog_bytes_after,
    }
