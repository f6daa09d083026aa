"""The whole system in one file: Prefect flows and the tasks they run, each wrapping a plain,
separately tested function. Tasks work on batches (feeds, pages, articles), never single rows.

    ingest:        apply spool → sync sources → poll feeds (batches of 100) → fetch/extract/store
    score:         unscored originals → passages → stance model → scores (batches)
    pipeline:      ingest → score → search index; one runs row with the whole funnel
    weekly-report: the weekly trend report (markdown, html, charts) + a Prefect artifact

Import this module only after ``flows.prefect_env.configure`` has set Prefect's environment.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.objects import State
from prefect.runtime import flow_run
from prefect.states import Failed

from flows import ingest, runlock, score, store
from flows.extract import Extractor
from flows.fetch import Fetcher
from flows.settings import Settings
from flows.sink import Sink
from warehouse import health
from warehouse.db import WarehouseError, now_utc

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


@task(name="score-articles", cache_policy=NO_CACHE)
def score_task(settings: Settings, classifier: Any, batch: Sequence[score.ArticleToScore], sink: Sink) -> int:
    """Score and store one batch of articles."""
    return score.score_batch(settings, classifier, batch, sink)


@task(name="refresh-search-index", cache_policy=NO_CACHE)
def search_index_task(settings: Settings) -> None:
    """Rebuild the full-text index over articles."""
    Sink(settings).apply([("refresh_fts", ())])


def progress(logger: Any) -> Callable[[str], None]:
    """Log progress through the run logger and, on an interactive terminal, show it on stderr."""
    interactive = sys.stderr.isatty()

    def say(message: str) -> None:
        logger.info(message)
        if interactive:
            print(f"\r\033[K{message}", end="", file=sys.stderr, flush=True)

    return say


def _open_run(settings: Settings, name: str, trigger: str) -> int:
    """Open this flow's run ledger row (spooled if the warehouse is locked)."""
    run_id = store.new_run_id()
    Sink(settings).apply([("start_run", (run_id, name, now_utc(), trigger, flow_run.get_id()))])
    return run_id


def _close_run(settings: Settings, run_id: int, fields: dict[str, Any]) -> None:
    """Close this flow's run ledger row."""
    Sink(settings).apply([("finish_run", (run_id, now_utc(), fields))])


def _ledgered(
    name: str, overrides: dict[str, Any] | None, trigger: str, *, with_score: bool
) -> dict[str, Any] | State:
    """Run ingest (and score + search index) inside one runs row: opened first, closed with the
    funnel counts, or as failed with the reason if anything raises."""
    settings = Settings.load(**(overrides or {}))
    try:
        with runlock.exclusive_run(settings.data_dir, f"axiswatch {name}"):
            return _ledgered_locked(settings, name, trigger, with_score=with_score)
    except Exception as exc:
        return _known_failure(settings, exc)


def _known_failure(settings: Settings, exc: Exception) -> State:
    """A Failed state with one line for a storage fault, a held run lock or a warehouse error
    (the CLI prints that line; no traceback); anything else is re-raised as a bug."""
    message = health.describe(exc, settings.warehouse_path)
    if message is None and isinstance(exc, runlock.RunActive | runlock.RunLockError | WarehouseError):
        message = str(exc)
    if message is None:
        raise exc
    return Failed(message=message)  # the state carries the line (UI, CLI); no traceback is logged


def _ledgered_locked(settings: Settings, name: str, trigger: str, *, with_score: bool) -> dict[str, Any]:
    """The body of ``_ledgered`` once this process holds the data directory's run lock."""
    say = progress(get_run_logger())
    run_id = _open_run(settings, name, trigger)
    runlock.note(settings.data_dir, f"{name} run {run_id} ({trigger})")
    try:
        counts = ingest.run_ingest(
            settings, run_id, say, prepare=prepare_task, poll=poll_task, fetch=fetch_task
        )
        extra: dict[str, Any] = {}
        if with_score:
            version, scored = score.run_score(settings, progress=say, score=score_task)
            extra = {"scored": scored, "model_version": version}
        search_index_task(settings)
    except Exception as exc:
        try:
            _close_run(settings, run_id, {"outcome": "failed", "message": f"{type(exc).__name__}: {exc}"})
        except Exception as also:
            get_run_logger().warning("could not mark run %s failed: %s", run_id, also)
        raise
    fields = {**counts.as_run_fields(), **{k: v for k, v in extra.items() if k == "scored"}}
    _close_run(settings, run_id, fields)
    return {"run_id": run_id, **fields, **extra, "not_modified": counts.not_modified}


@flow(name="ingest", log_prints=False)
def ingest_flow(overrides: dict[str, Any] | None = None, trigger: str = "manual") -> dict[str, Any] | State:
    """Poll every due feed and store every new article; returns the funnel counts."""
    return _ledgered("ingest", overrides, trigger, with_score=False)


@flow(name="score", log_prints=False)
def score_flow(overrides: dict[str, Any] | None = None, rescore: bool = False) -> dict[str, Any] | State:
    """Score every article the configured model version has not scored yet."""
    settings = Settings.load(**(overrides or {}))
    try:
        version, scored = score.run_score(
            settings, rescore=rescore, progress=progress(get_run_logger()), score=score_task
        )
    except Exception as exc:
        return _known_failure(settings, exc)
    return {"model_version": version, "scored": scored}


@flow(name="pipeline", log_prints=False, retries=1, retry_delay_seconds=30)
def pipeline_flow(overrides: dict[str, Any] | None = None, trigger: str = "manual") -> dict[str, Any] | State:
    """One pipeline run: ingest → score → search index, recorded as one runs row."""
    return _ledgered("pipeline", overrides, trigger, with_score=True)


@flow(name="weekly-report", log_prints=False)
def weekly_report_flow(
    overrides: dict[str, Any] | None = None, trigger: str = "manual", week: str | None = None, weeks: int = 12
) -> dict[str, Any]:
    """Draw the weekly trend report and publish its markdown as a Prefect artifact."""
    from prefect.artifacts import create_markdown_artifact

    from flows.report import build_report

    settings = Settings.load(**(overrides or {}))
    result = build_report(
        settings.warehouse_path, week, weeks, out_dir=settings.report_path, timezone=settings.timezone
    )
    create_markdown_artifact(
        markdown=result.markdown,
        key=f"axiswatch-report-{result.week.lower()}",
        description=f"axiswatch weekly report {result.week} (charts: {result.html_path})",
    )
    get_run_logger().info("report for %s written to %s", result.week, result.directory)
    return {
        "week": result.week,
        "markdown": str(result.markdown_path),
        "html": str(result.html_path),
        "empty": result.empty,
    }
