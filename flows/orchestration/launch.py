"""Run a flow of flows/pipeline.py on the configured Prefect API, with the settings as parameters."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flows.settings import Settings


def overrides_of(settings: Settings) -> dict[str, Any]:
    """The settings that differ from defaults+env, as JSON-able flow parameters."""
    base = Settings.load().model_dump(mode="json")
    return {name: value for name, value in settings.model_dump(mode="json").items() if value != base[name]}


def preflight(settings: Settings) -> None:
    """Storage checks before Prefect starts (writable data dir with room, a sound warehouse)."""
    from warehouse.health import check_data_dir
    from warehouse.health import preflight as check

    check(settings.data_dir, settings.location)
    if not str(settings.report_path).startswith(str(settings.data_dir)):
        check_data_dir(settings.report_path)
    check_data_dir(prefect_home(settings), "Prefect's home (its database)")


def prefect_home(settings: Settings) -> Path:
    """Where Prefect keeps its database for this run: PREFECT_HOME, else DATA_DIR/prefect."""
    from flows.orchestration.prefect_env import prefect_defaults

    return Path(os.environ.get("PREFECT_HOME") or prefect_defaults(settings)["PREFECT_HOME"])


Flow = Callable[..., Any]  # a Prefect flow of flows/pipeline.py


def ingest() -> Flow:
    """flows.pipeline's ingest flow (imported when called: Prefect reads its settings at import)."""
    from flows.pipeline import ingest_flow

    return ingest_flow


def pipeline() -> Flow:
    """flows.pipeline's pipeline flow: ingest → score → search index."""
    from flows.pipeline import pipeline_flow

    return pipeline_flow


def score() -> Flow:
    """flows.pipeline's score flow."""
    from flows.pipeline import score_flow

    return score_flow


def weekly_report() -> Flow:
    """flows.pipeline's weekly report flow."""
    from flows.pipeline import weekly_report_flow

    return weekly_report_flow


def run_flow(settings: Settings, flow: Callable[[], Flow], **params: Any) -> dict[str, Any]:
    """Run one of the Prefect flows of flows/pipeline.py on the configured API: PREFECT_API_URL,
    else the local server of a running `axiswatch serve` on the same data, else the ephemeral API."""
    from flows.orchestration import prefect_env, prefect_server
    from warehouse.db import verify_migrations

    preflight(settings)
    verify_migrations(settings.location)  # a changed migration: one line, before Prefect starts
    home = prefect_env.configure(settings)
    from prefect.exceptions import FailedRun

    served = None if os.environ.get("PREFECT_API_URL") else prefect_server.running_api_url(home)
    if served and "prefect" not in sys.modules:
        os.environ["PREFECT_API_URL"] = served
    try:
        fn = flow()  # imported only now, after the Prefect environment is configured
        result: dict[str, Any] = fn(overrides=overrides_of(settings), **params)
        return result
    except FailedRun as exc:  # a flow that stopped on a known fault returned Failed(message)
        raise SystemExit(f"axiswatch: {exc}") from None
    except Exception as exc:
        fault = prefect_env.storage_fault(exc, home)
        if fault:
            raise SystemExit(f"axiswatch: {fault}") from None
        if prefect_env.is_database_locked(exc):
            raise SystemExit(
                f"axiswatch: Prefect's local database under {home} is locked by another process "
                "(another run on the same data directory?). Wait for it to finish, or start "
                "`axiswatch serve` (later commands then use its server) or point PREFECT_API_URL at one."
            ) from None
        raise
