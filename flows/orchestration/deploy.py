"""`axiswatch deploy`: the deployments on a process work pool, executed by `prefect worker start`.

Registers, on the Prefect server PREFECT_API_URL names, deployments by module entrypoint
(``flows.pipeline.pipeline_flow``) with no storage and no pull step: a worker runs them from the
axiswatch it has installed (``pip install``, or the compose image), in whatever directory it was
started, never from the path of the checkout that registered them:

- ``pipeline`` with the schedule ``serve`` uses (``pipeline_cron`` or ``pipeline_interval_seconds``
  in ``timezone``), one run at a time (an overlapping run is cancelled, never queued);
- ``weekly-report`` on ``report_cron``;
- ``pipeline-shard`` with no schedule: the shard runs a fanned-out pipeline run starts;
- ``lake-maintenance`` on ``lake_maintenance_cron`` when the warehouse is a DuckLake (the deploying
  process's settings decide; flows/orchestration/maintenance.py).

The work pool (type ``process``) is created when missing. Workers read their own AXISWATCH_*
environment (data directory, warehouse, shards), like ``serve``; ``--shards N`` is baked into the
pipeline deployment's parameters instead.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from typing import Any

import httpx

from flows.settings import Settings, SettingsError


def api_url() -> str:
    """PREFECT_API_URL of a server that answers its health check, else SettingsError (exit 2)."""
    url = os.environ.get("PREFECT_API_URL", "").rstrip("/")
    if not url:
        raise SettingsError(
            "deploy: set PREFECT_API_URL to a running Prefect server (e.g. http://127.0.0.1:4200/api)"
        )
    try:
        healthy = httpx.get(f"{url}/health", timeout=10).status_code == 200
    except httpx.HTTPError as exc:
        raise SettingsError(f"deploy: the Prefect server at {url} does not answer: {exc}") from None
    if not healthy:
        raise SettingsError(f"deploy: the Prefect server at {url} is not healthy")
    return url


def ensure_pool(name: str) -> bool:
    """Create the process work pool ``name`` unless it exists; True when it was created."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectNotFound

    with get_client(sync_client=True) as client:
        try:
            pool = client.read_work_pool(name)
        except ObjectNotFound:
            client.create_work_pool(WorkPoolCreate(name=name, type="process"))
            return True
    if pool.type != "process":
        raise SettingsError(f"deploy: work pool {name!r} exists with type {pool.type!r}, not 'process'")
    return False


def _deploy_one(flow: Any, pool: str, **options: Any) -> str:
    """Register a flow of flows/pipeline.py on ``pool`` as the deployment of its own name, by its
    module path (no storage, no pull step): a worker imports it from its own installed axiswatch,
    wherever it runs; its id."""
    from prefect.types.entrypoint import EntrypointType

    deployment_id = flow.deploy(
        name=flow.name,
        work_pool_name=pool,
        build=False,
        push=False,
        print_next_steps=False,
        entrypoint_type=EntrypointType.MODULE_PATH,
        tags=["axiswatch"],
        **options,
    )
    return str(deployment_id)


def deploy(settings: Settings, pool: str, shards: int | None, say: Callable[[str], None] = print) -> int:
    """Create the pool if missing, register the deployments, say how to start workers."""
    from flows.orchestration import prefect_env

    url = api_url()
    prefect_env.configure(settings)
    from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
    from prefect.schedules import Cron

    from flows import pipeline  # imported only now, after the Prefect environment is configured
    from flows.orchestration.maintenance import lake_maintenance_flow
    from flows.orchestration.serve import describe, maintains_lake, pipeline_schedule

    created = ensure_pool(pool)
    overrides: dict[str, Any] = {"shards": shards} if shards else {}
    scheduled = {"overrides": overrides, "trigger": "schedule"}
    one_at_a_time = ConcurrencyLimitConfig(limit=1, collision_strategy=ConcurrencyLimitStrategy.CANCEL_NEW)
    _deploy_one(
        pipeline.pipeline_flow,
        pool,
        schedules=[pipeline_schedule(settings)],
        concurrency_limit=one_at_a_time,
        parameters=scheduled,
        description="ingest → score → search index; fans out to pipeline-shard runs when shards > 1",
    )
    _deploy_one(
        pipeline.weekly_report_flow,
        pool,
        schedules=[Cron(settings.report_cron, timezone=settings.timezone)],
        parameters=scheduled,
        description="the weekly trend report, Mondays 07:00 Asia/Seoul by default",
    )
    shard_help = "one shard of a fanned-out pipeline run (no schedule)"
    _deploy_one(pipeline.pipeline_shard_flow, pool, description=shard_help)
    if maintains_lake(settings):
        _deploy_one(
            lake_maintenance_flow,
            pool,
            schedules=[Cron(settings.lake_maintenance_cron, timezone=settings.timezone)],
            concurrency_limit=one_at_a_time,
            parameters={"trigger": "schedule"},
            description="the lake's catalog kept small: inlined rows flushed, old snapshots expired",
        )
    fan = f"shards {shards} (parameter)" if shards else "shards: each worker's AXISWATCH_SHARDS (default 1)"
    say(f"axiswatch deploy: work pool {pool!r} (process, {'created' if created else 'existing'}) on {url}")
    say(f"  {describe(settings)}; {fan}")
    say("  pipeline-shard/pipeline-shard: no schedule, started by fanned-out pipeline runs")
    say("start workers (any number, anywhere axiswatch is installed, with the same warehouse settings;")
    say("  outside a checkout: AXISWATCH_SOURCES_FILE and AXISWATCH_TOPICS_FILE, or start it beside seeds/):")
    say(f"  PREFECT_API_URL={url} AXISWATCH_DATA_DIR=… prefect worker start --pool {pool} --type process")
    name = pipeline.pipeline_flow.name
    say(f"run one now: PREFECT_API_URL={url} prefect deployment run {name}/{name}")
    return 0


def cmd_deploy(args: argparse.Namespace, settings: Settings) -> int:
    """`axiswatch deploy --work-pool NAME [--shards N]`."""
    if args.shards is not None and not 1 <= args.shards <= 64:
        raise SettingsError("deploy: --shards must be between 1 and 64")
    return deploy(settings, args.work_pool, args.shards)


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add the `deploy` subcommand."""
    p = sub.add_parser(
        "deploy", parents=[common], help="register the deployments on a process work pool (PREFECT_API_URL)"
    )
    p.add_argument(
        "--work-pool", required=True, metavar="NAME", help="process work pool (created if missing)"
    )
    p.add_argument("--shards", type=int, metavar="N", help="fan each pipeline run out to N shard runs")
    p.set_defaults(func=cmd_deploy)
