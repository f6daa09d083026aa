"""Deployments and schedules: `axiswatch serve` keeps the pipeline and the weekly report running.

- ``pipeline`` every 30 minutes (``pipeline_cron``), at most one run at a time: a run that
  would overlap a running one is cancelled, never queued behind it (the next tick catches up,
  the idempotent warehouse makes that harmless).
- ``weekly-report`` on Mondays 07:00 (``report_cron``) in ``timezone`` (Asia/Seoul).
- ``lake-maintenance`` daily at 04:45 (``lake_maintenance_cron``: between the half-hourly pipeline
  runs), only when the warehouse is a DuckLake: inlined rows flushed, old snapshots expired,
  replaced files removed (flows/orchestration/maintenance.py).
``pipeline_interval_seconds`` > 0 replaces the pipeline's cron with a fixed interval.
Stopping serve leaves the schedules active (``pause_on_shutdown=False``), so a Prefect server
keeps scheduling while the worker restarts.

Prefect's ephemeral API runs no scheduler, so with no PREFECT_API_URL ``serve`` starts and
supervises a local Prefect server (flows/orchestration/prefect_server.py) and serves against it; with
PREFECT_API_URL set it uses that server and starts none. Import this module only after
``flows.orchestration.prefect_env.configure`` (and the CLI, PREFECT_API_URL) have set Prefect's environment.
"""

from __future__ import annotations

import asyncio
import signal
from typing import Any

from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
from prefect.runner import Runner
from prefect.schedules import Cron, Interval, Schedule

from flows.orchestration.maintenance import NAME as LAKE_MAINTENANCE
from flows.orchestration.maintenance import lake_maintenance_flow
from flows.pipeline import pipeline_flow, weekly_report_flow
from flows.settings import Settings
from warehouse.lake import Lake

PIPELINE = "pipeline"
WEEKLY_REPORT = "weekly-report"


def pipeline_schedule(settings: Settings) -> Schedule:
    """The pipeline's schedule: a fixed interval when one is set, else its cron."""
    if settings.pipeline_interval_seconds > 0:
        return Interval(settings.pipeline_interval_seconds, timezone=settings.timezone)
    return Cron(settings.pipeline_cron, timezone=settings.timezone)


def _deployment(fn: Any, name: str, schedule: Schedule, overrides: dict[str, Any], about: str) -> Any:
    """One scheduled runner deployment that never runs twice at the same time."""
    one_at_a_time = ConcurrencyLimitConfig(limit=1, collision_strategy=ConcurrencyLimitStrategy.CANCEL_NEW)
    return fn.to_deployment(
        name=name,
        schedules=[schedule],
        concurrency_limit=one_at_a_time,
        parameters={"overrides": overrides, "trigger": "schedule"},
        description=about,
        tags=["axiswatch"],
    )


def maintains_lake(settings: Settings) -> bool:
    """Whether the ``lake-maintenance`` deployment is registered: the warehouse is a DuckLake."""
    return isinstance(settings.location, Lake)


def deployments(settings: Settings, overrides: dict[str, Any]) -> list[Any]:
    """The runner deployments with their schedules and concurrency limit."""
    made = [
        _deployment(
            pipeline_flow,
            PIPELINE,
            pipeline_schedule(settings),
            overrides,
            "ingest → score → search index, every 30 minutes by default",
        ),
        _deployment(
            weekly_report_flow,
            WEEKLY_REPORT,
            Cron(settings.report_cron, timezone=settings.timezone),
            overrides,
            "the weekly trend report, Mondays 07:00 Asia/Seoul by default",
        ),
    ]
    if maintains_lake(settings):
        made.append(
            _deployment(
                lake_maintenance_flow,
                LAKE_MAINTENANCE,
                Cron(settings.lake_maintenance_cron, timezone=settings.timezone),
                overrides,
                "the lake's catalog kept small: inlined rows flushed, old snapshots expired (daily)",
            )
        )
    return made


def describe(settings: Settings) -> str:
    """One line naming the deployments and their schedules."""
    pipeline = (
        f"every {settings.pipeline_interval_seconds:g} s"
        if settings.pipeline_interval_seconds > 0
        else f"cron '{settings.pipeline_cron}'"
    )
    cron = settings.lake_maintenance_cron
    lake = f", {LAKE_MAINTENANCE} (cron '{cron}')" if maintains_lake(settings) else ""
    return (
        f"{PIPELINE} ({pipeline}, one run at a time){lake} and {WEEKLY_REPORT} "
        f"(cron '{settings.report_cron}'), time zone {settings.timezone}"
    )


def serve(settings: Settings, overrides: dict[str, Any]) -> None:
    """Register the deployments and run their scheduled flow runs until SIGINT or SIGTERM.

    Both signals take the runner's graceful path (in-flight runs cancelled, loops stopped):
    Prefect's own SIGINT handling can leave the runner's loops running.
    """
    runner = Runner(pause_on_shutdown=False)
    for deployment in deployments(settings, overrides):
        runner.add_deployment(deployment)
    print(f"axiswatch serve: {describe(settings)} are being served; Ctrl-C stops", flush=True)
    previous = signal.signal(signal.SIGINT, runner.handle_sigterm)
    try:
        asyncio.run(runner.start())
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGINT, previous)
    print("axiswatch serve: stopped serving; the schedules stay active on the server", flush=True)
