"""Deployments and schedules: `axiswatch serve` keeps the pipeline and the weekly report running.

- ``pipeline`` every 30 minutes (``pipeline_cron``), at most one run at a time: a run that
  would overlap a running one is cancelled, never queued behind it (the next tick catches up,
  the idempotent warehouse makes that harmless).
- ``weekly-report`` on Mondays 07:00 (``report_cron``) in ``timezone`` (Asia/Seoul).
Stopping serve leaves the schedules active (``pause_on_shutdown=False``), so a Prefect server
keeps scheduling while the worker restarts. Works against the ephemeral local API and against
a server named by PREFECT_API_URL.
"""

from __future__ import annotations

from typing import Any

from prefect import serve as prefect_serve
from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
from prefect.schedules import Cron

from flows.pipeline import pipeline_flow, weekly_report_flow
from flows.settings import Settings

PIPELINE = "pipeline"
WEEKLY_REPORT = "weekly-report"


def _deployment(
    fn: Any, name: str, cron: str, settings: Settings, overrides: dict[str, Any], about: str
) -> Any:
    """One scheduled runner deployment that never runs twice at the same time."""
    one_at_a_time = ConcurrencyLimitConfig(limit=1, collision_strategy=ConcurrencyLimitStrategy.CANCEL_NEW)
    return fn.to_deployment(
        name=name,
        schedules=[Cron(cron, timezone=settings.timezone)],
        concurrency_limit=one_at_a_time,
        parameters={"overrides": overrides, "trigger": "schedule"},
        description=about,
        tags=["axiswatch"],
    )


def deployments(settings: Settings, overrides: dict[str, Any]) -> list[Any]:
    """The two runner deployments with their schedules and concurrency limit."""
    return [
        _deployment(
            pipeline_flow,
            PIPELINE,
            settings.pipeline_cron,
            settings,
            overrides,
            "ingest → score → search index, every 30 minutes by default",
        ),
        _deployment(
            weekly_report_flow,
            WEEKLY_REPORT,
            settings.report_cron,
            settings,
            overrides,
            "the weekly trend report, Mondays 07:00 Asia/Seoul by default",
        ),
    ]


def serve(settings: Settings, overrides: dict[str, Any]) -> None:
    """Register the deployments and run their scheduled flow runs until interrupted."""
    prefect_serve(*deployments(settings, overrides), pause_on_shutdown=False, print_starting_message=True)
