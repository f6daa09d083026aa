"""The whole system in one file: Prefect flows and the tasks they run, each wrapping a plain,
separately tested function. Tasks work on batches (a batch of feeds, a batch of pages).

    ingest:   prepare sources → poll feeds (batches of 20) → fetch + extract + store (batches)
    pipeline: ingest → score (when a model is installed) → run ledger row

Import this module only after ``flows.prefect_env.configure`` has set Prefect's environment.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run

from flows import ingest, store
from flows.extract import Extractor
from flows.fetch import Fetcher
from flows.settings import Settings
from flows.sink import Sink
from warehouse.db import now_utc

NETWORK_RETRIES = 1


@task(name="prepare-sources", cache_policy=NO_CACHE)
def prepare_task(settings: Settings, sink: Sink) -> list[store.DueSource]:
    """Apply spooled writes, sync sources.toml and list the feeds due for polling."""
    return ingest.prepare_sources(settings, sink)


@task(name="poll-feeds", cache_policy=NO_CACHE, retries=NETWORK_RETRIES, retry_delay_seconds=5)
def poll_task(
    settings: Settings, due: Sequence[store.DueSource], fetcher: Fetcher, sink: Sink, run_id: int | None
) -> ingest.IngestCounts:
    """Poll one batch of feeds and record each poll."""
    return ingest.poll_feeds(settings, due, fetcher, sink, run_id)


@task(name="fetch-pages", cache_policy=NO_CACHE, retries=NETWORK_RETRIES, retry_delay_seconds=5)
def fetch_task(
    settings: Settings,
    entries: Sequence[store.PendingEntry],
    fetcher: Fetcher,
    extractor: Extractor,
    sink: Sink,
    run_id: int | None,
) -> ingest.IngestCounts:
    """Fetch, extract and store one batch of pages."""
    return ingest.fetch_pages(settings, entries, fetcher, extractor, sink, run_id)


def _open_run(settings: Settings, name: str, trigger: str) -> int:
    """Open this flow's run ledger row (spooled if the warehouse is locked)."""
    run_id = store.new_run_id()
    Sink(settings).apply([("start_run", (run_id, name, now_utc(), trigger, flow_run.get_id()))])
    return run_id


def _close_run(settings: Settings, run_id: int, fields: dict[str, Any]) -> None:
    """Close this flow's run ledger row."""
    Sink(settings).apply([("finish_run", (run_id, now_utc(), fields))])


@flow(name="ingest", log_prints=False)
def ingest_flow(overrides: dict[str, Any] | None = None, trigger: str = "manual") -> dict[str, Any]:
    """Poll every due feed and store every new article; returns the funnel counts."""
    settings = Settings.load(**(overrides or {}))
    logger = get_run_logger()
    run_id = _open_run(settings, "ingest", trigger)
    try:
        counts = ingest.run_ingest(
            settings, run_id, logger.info, prepare=prepare_task, poll=poll_task, fetch=fetch_task
        )
    except Exception as exc:
        _close_run(settings, run_id, {"outcome": "failed", "message": f"{type(exc).__name__}: {exc}"})
        raise
    fields = counts.as_run_fields()
    _close_run(settings, run_id, fields)
    return {"run_id": run_id, **fields, "not_modified": counts.not_modified}
