"""The whole system in one file: Prefect flows, their batch loops and task boundaries.

    ingest:        apply spool → sync sources → poll feeds (batches of 100) → pages (batches)
    score:         unscored originals → passages → stance model → scores (batches)
    pipeline:      ingest → score → search index → alerts; one runs row with the whole funnel
                   (``shards`` > 1: ingest and score fan out to pipeline-shard runs,
                   flows/orchestration/fanout.py)
    pipeline-shard: one shard of a fanned-out run: ingest its sources, or score its article ids
    weekly-report: the weekly trend report (markdown, html, charts) + a Prefect artifact

Each task wraps a plain, separately tested function of ``flows.ingest``, ``flows.score.stage`` or
``flows.report`` and takes a batch. ``ingest_stage`` and ``score_stage`` are the loops; with
``plain=True`` they call the same functions without Prefect (tests, bench).
Import this module only after ``flows.orchestration.prefect_env.configure`` has set Prefect's environment.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.objects import State
from prefect.runtime import flow_run
from prefect.states import Failed

from flows.ingest import pages, polling
from flows.ingest.counts import IngestCounts
from flows.ingest.extract_pool import Extractor
from flows.ingest.fetch import Fetcher
from flows.orchestration import fanout, faults, runlock
from flows.orchestration.progress import announce, log_lines, tracker
from flows.score import behind
from flows.score import stage as score
from flows.settings import Settings
from warehouse import health
from warehouse import ingest_ops as store
from warehouse.db import StorageFault, WarehouseError, now_utc
from warehouse.ops import RefreshSearch, TagTopics
from warehouse.run_ops import FinishRun, StartRun, new_run_id
from warehouse.score_ops import ArticleToScore
from warehouse.sink import Sink
from warehouse.topics import load_dictionary

NETWORK_RETRIES = 1
Say = Callable[[str], None]
faults.quiet_known_faults()


@task(name="prepare-sources", cache_policy=NO_CACHE)
def prepare_task(settings: Settings, sink: Sink) -> list[store.DueSource]:
    """Apply spooled writes, sync sources.toml and list the feeds due for polling."""
    return polling.prepare_sources(settings, sink)


@task(
    name="poll-feeds",
    cache_policy=NO_CACHE,
    retries=NETWORK_RETRIES,
    retry_delay_seconds=5,
    retry_condition_fn=faults.retry_unless_known,
)
def poll_task(
    settings: Settings, due: Sequence[store.DueSource], fetcher: Fetcher, sink: Sink, run_id: int | None
) -> IngestCounts:
    """Poll one batch of feeds and record each poll."""
    return polling.poll_feeds(settings, due, fetcher, sink, run_id)


@task(
    name="fetch-pages",
    cache_policy=NO_CACHE,
    retries=NETWORK_RETRIES,
    retry_delay_seconds=5,
    retry_condition_fn=faults.retry_unless_known,
)
def fetch_task(
    settings: Settings,
    entries: Sequence[store.PendingEntry],
    fetcher: Fetcher,
    extractor: Extractor,
    sink: Sink,
    run_id: int | None,
) -> IngestCounts:
    """Fetch, extract and store one batch of pages."""
    return pages.fetch_pages(settings, entries, fetcher, extractor, sink, run_id)


@task(name="score-articles", cache_policy=NO_CACHE)
def score_task(settings: Settings, classifier: Any, batch: Sequence[ArticleToScore], sink: Sink) -> int:
    """Score and store one batch of articles."""
    return score.score_batch(settings, classifier, batch, sink)


@task(name="refresh-search-index", cache_policy=NO_CACHE)
def search_index_task(settings: Settings) -> None:
    """Refresh the full-text index over articles and tag new articles with topics."""
    dictionary = load_dictionary(settings.topics_file)
    settings.sink().apply([RefreshSearch(), TagTopics(dictionary)])


@task(name="detect-shifts", cache_policy=NO_CACHE)
def alerts_task(settings: Settings, run_id: int | None) -> dict[str, Any]:
    """Detect stance shifts, store new alerts, notify and emit events (flows/alerts; never raises)."""
    from flows.alerts.run import after_scoring

    result = after_scoring(settings, run_id)
    if result is None:
        return {"alerts_failed": True}
    failed = sum(not d["ok"] for d in result.deliveries)
    return {"series_tested": result.tested, "alerts_new": len(result.new), "deliveries_failed": failed}


def ingest_stage(
    settings: Settings,
    run_id: int | None = None,
    say: Say | None = None,
    *,
    plain: bool = False,
    shard: fanout.Shard | None = None,
    wake: Callable[[], None] | None = None,
) -> IngestCounts:
    """Sync sources, poll every due feed in batches, then fetch every pending page in batches
    (a shard: poll its own due sources, fetch the pending pages of its sources); ``wake`` is
    called once polling found new entries and after each batch that stored an article."""
    say = say or (lambda _msg: None)
    prepare, poll, fetch = (
        (prepare_task.fn, poll_task.fn, fetch_task.fn) if plain else (prepare_task, poll_task, fetch_task)
    )
    sink = settings.sink()
    if shard is None:
        due, keep = prepare(settings, sink), None
    else:
        due = fanout.shard_due(sink, shard, settings.poll_interval_minutes)
        keep = lambda entry: shard.owns(entry.source_id)  # noqa: E731
    total = IngestCounts()
    with Fetcher(settings) as fetcher, Extractor(settings) as extractor:
        with tracker("polling feeds", total=len(due)) as bar:
            for start in range(0, len(due), polling.FEED_BATCH):
                chunk = due[start : start + polling.FEED_BATCH]
                total.add(poll(settings, chunk, fetcher, sink, run_id))
                bar.advance(len(chunk))
        say(
            f"polled {total.feeds_polled} feeds ({total.not_modified} unchanged, "
            f"{total.feeds_failed} failed): {total.discovered} new entries"
        )
        if wake and total.discovered:
            wake()
        with tracker("fetching pages") as bar:
            for batch in pages.iter_pending(settings, sink, keep):
                counts = fetch(settings, batch, fetcher, extractor, sink, run_id)
                total.add(counts)
                bar.advance(len(batch))
                if wake and counts.extracted:
                    wake()
                if sink.locked_by:
                    say(f"warehouse locked by {sink.locked_by}: the rest waits for the next run")
                    break
        say(f"stored {total.extracted} articles, {total.duplicates} duplicates, {total.failed} failed pages")
    return total


def score_stage(
    settings: Settings,
    *,
    rescore: bool = False,
    say: Say | None = None,
    plain: bool = False,
    shard: fanout.Shard | None = None,
) -> tuple[str, int]:
    """Score every unscored original with the configured model in batches; (version, scored).
    A shard scores only its article ids and leaves registering the version to its parent."""
    say = say or (lambda _msg: None)
    score_one = score_task.fn if plain else score_task
    sink = settings.sink()
    part = (0, 1) if shard is None else (shard.index, shard.count)
    if shard is not None:
        version = score.resolve_version(settings)
        if next(score.iter_batches(settings, sink, version, part), None) is None:
            return version, 0  # nothing of this shard's: the encoders are not loaded
    classifier = score.prepare(settings, sink, rescore=rescore)
    if isinstance(classifier, str):  # nothing to score: the version, already registered
        return classifier, 0
    version, total = score.model_version(classifier), 0
    waiting = score.to_score(settings, sink, classifier.version) if shard is None else None
    with tracker(f"scoring articles ({version})", total=waiting) as bar:
        for batch in score.iter_batches(settings, sink, classifier.version, part):  # a re-score: staging key
            done = score_one(settings, classifier, batch, sink)
            total += done
            bar.advance(len(batch))
            say(f"scored {total} articles with model {version}")
            if sink.locked_by:
                say(f"warehouse locked by {sink.locked_by}: scoring resumes on the next run")
                return version, total
    if shard is None:
        score.finish(sink, classifier)
    return version, total


def ingest_and_score(
    settings: Settings, run_id: int | None = None, say: Say | None = None, *, plain: bool = False
) -> tuple[IngestCounts, str, int]:
    """Ingest with scoring behind it (flows/score/behind.py: what a batch stored is scored while the
    next is fetched), then the score stage for what is left; (counts, version, articles scored)."""
    say = say or (lambda _msg: None)
    with behind.scoring_behind(settings, score_task.fn if plain else score_task, say) as scorer:
        counts = ingest_stage(settings, run_id, say, plain=plain, wake=scorer.wake_up)
    version, rest = score_stage(settings, say=say, plain=plain)
    return counts, version, scorer.scored + rest


def _ledgered(
    name: str, overrides: dict[str, Any] | None, trigger: str, *, with_score: bool
) -> dict[str, Any] | State:
    """Run ingest (and score + search index) inside one runs row: opened first, closed with the
    funnel counts, or as failed with the reason if anything raises."""
    settings = Settings.load(**(overrides or {}))
    try:
        with runlock.exclusive_run(
            settings.data_dir, f"axiswatch {name}", warehouse=runlock.file_of(settings.location)
        ):
            return _ledgered_locked(settings, name, trigger, with_score=with_score, overrides=overrides or {})
    except Exception as exc:
        return _known_failure(settings, exc)


def _known_failure(settings: Settings, exc: Exception) -> State:
    """A Failed state with one line for a storage fault, a held run lock or a warehouse error
    (the CLI prints that line; no traceback); anything else is re-raised as a bug."""
    message = health.describe(exc, settings.location)
    known = runlock.RunActive | runlock.RunLockError | WarehouseError | fanout.FanoutError
    if message is None and isinstance(exc, known):
        message = str(exc)
    if message is None:
        raise exc
    return faults.final_failure(message)  # the state carries the line (UI, CLI); no traceback, no retry


def _ledgered_locked(
    settings: Settings, name: str, trigger: str, *, with_score: bool, overrides: dict[str, Any]
) -> dict[str, Any]:
    """The body of ``_ledgered`` once this process holds the data directory's run lock."""
    say = log_lines(get_run_logger())
    sink = settings.sink()
    run_id = new_run_id()
    sink.apply([StartRun(run_id, name, now_utc(), trigger, flow_run.get_id())])
    runlock.note(
        settings.data_dir, f"{name} run {run_id} ({trigger})", warehouse=runlock.file_of(settings.location)
    )
    lost: list[str] = []
    try:
        extra: dict[str, Any] = {}
        if with_score and settings.shards > 1:
            counts, extra, lost = sharded_stages(settings, overrides, run_id, say)
        elif with_score:
            counts, version, scored = ingest_and_score(settings, run_id, say)
            extra = {"scored": scored, "model_version": version}
        else:
            counts = ingest_stage(settings, run_id, say)
        search_index_task(settings)
        if with_score:
            extra["alerts"] = alerts_task(settings, run_id)
            say(f"alerts: {extra['alerts']}")
    except StorageFault:
        raise  # a damaged warehouse or a full/read-only disk: write nothing more, not even the failure
    except Exception as exc:
        try:
            failed = {"outcome": "failed", "message": f"{type(exc).__name__}: {exc}"}
            sink.apply([FinishRun(run_id, now_utc(), failed)])
        except Exception as also:
            get_run_logger().warning("could not mark run %s failed: %s", run_id, also)
        raise
    fields = {**counts.as_run_fields(), **{k: v for k, v in extra.items() if k == "scored"}}
    if lost:  # shards that never completed: their sources and articles wait for the next run
        fields["outcome"] = "partial" if fields["outcome"] == "ok" else fields["outcome"]
        fields["message"] = "; ".join(m for m in (fields["message"], *lost) if m)
    sink.apply([FinishRun(run_id, now_utc(), fields)])
    result = {"run_id": run_id, **fields, **extra, "not_modified": counts.not_modified}
    if trigger == "schedule":
        announce(name, result)
    return result


def sharded_stages(
    settings: Settings, overrides: dict[str, Any], run_id: int, say: Say
) -> tuple[IngestCounts, dict[str, Any], list[str]]:
    """Ingest, then score, as waves of shard runs on the work pool; (summed counts, scored and
    model version, lines for shards that never completed)."""
    sink = settings.sink()
    due = prepare_task(settings, sink)
    n = settings.shards
    groups = fanout.split([d.source_id for d in due], n)
    say(f"{len(due)} due feeds in {n} shards ({', '.join(str(len(g)) for g in groups)})")
    params = fanout.shard_params(overrides, "ingest", run_id, groups, n)
    ingested, lost = fanout.run_shards(settings, "ingest", params, run_id, say)
    counts, _ = fanout.totals(sink, ingested)
    say(f"shards stored {counts.extracted} articles, {counts.duplicates} duplicates, {counts.failed} failed")
    params = fanout.shard_params(overrides, "score", run_id, None, n)
    scoring, lost_scoring = fanout.run_shards(settings, "score", params, run_id, say)
    _, scored = fanout.totals(sink, scoring)
    version = fanout.complete_version(settings, sink)
    say(f"shards scored {scored} articles with model {version}")
    return counts, {"scored": scored, "model_version": version}, lost + lost_scoring


def _shard_locked(settings: Settings, stage: str, shard: fanout.Shard, parent_run_id: int) -> dict[str, Any]:
    """One shard's stage inside its own runs row (trigger ``shard:<parent run id>``)."""
    say = log_lines(get_run_logger())
    sink = settings.sink()
    run_id, label = new_run_id(), shard.label(stage)
    flow_name = f"{stage}-shard-{shard.index + 1}/{shard.count}"  # sibling shards never close each other
    sink.apply([StartRun(run_id, flow_name, now_utc(), f"shard:{parent_run_id}", flow_run.get_id())])
    try:
        if stage == "ingest":
            fields = ingest_stage(settings, run_id, say, shard=shard).as_run_fields()
        else:
            _version, scored = score_stage(settings, say=say, shard=shard)
            fields = {"outcome": "ok", "scored": scored}
    except Exception as exc:
        sink.apply([FinishRun(run_id, now_utc(), {"outcome": "failed", "message": f"{label}: {exc}"})])
        raise
    sink.apply([FinishRun(run_id, now_utc(), fields)])
    return {"run_id": run_id, "shard": label, **fields}


@flow(name=fanout.SHARD_FLOW, log_prints=False, retries=1, retry_delay_seconds=10)
def pipeline_shard_flow(
    overrides: dict[str, Any] | None = None,
    stage: str = "ingest",
    shard: int = 0,
    shards: int = 1,
    source_ids: list[str] | None = None,
    parent_run_id: int = 0,
) -> dict[str, Any] | State:
    """One shard of a fanned-out pipeline run: ingest its sources, or score its article ids."""
    settings = Settings.load(**(overrides or {}))
    if stage not in ("ingest", "score") or not 0 <= shard < shards:
        return Failed(message=f"bad shard parameters: stage {stage!r}, shard {shard} of {shards}")
    part = fanout.Shard(shard, shards, frozenset(source_ids) if source_ids is not None else None)
    try:
        lock = runlock.shard_lock_name(shard)
        with runlock.exclusive_run(settings.data_dir, f"axiswatch {part.label(stage)}", lock):
            return _shard_locked(settings, stage, part, parent_run_id)
    except Exception as exc:
        return _known_failure(settings, exc)


@flow(name="ingest", log_prints=False)
def ingest_flow(overrides: dict[str, Any] | None = None, trigger: str = "manual") -> dict[str, Any] | State:
    """Poll every due feed and store every new article; returns the funnel counts."""
    return _ledgered("ingest", overrides, trigger, with_score=False)


@flow(name="score", log_prints=False)
def score_flow(overrides: dict[str, Any] | None = None, rescore: bool = False) -> dict[str, Any] | State:
    """Score every article the configured model version has not scored yet (then detect shifts)."""
    settings = Settings.load(**(overrides or {}))
    try:
        version, scored = score_stage(settings, rescore=rescore, say=log_lines(get_run_logger()))
    except Exception as exc:
        return _known_failure(settings, exc)
    alerts = alerts_task(settings, None) if scored else {}
    return {"model_version": version, "scored": scored, **({"alerts": alerts} if alerts else {})}


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

    from flows.report.weekly import build_report

    settings = Settings.load(**(overrides or {}))
    result = build_report(
        settings.location, week, weeks, out_dir=settings.report_path, timezone=settings.timezone
    )
    create_markdown_artifact(
        markdown=result.markdown,
        key=f"axiswatch-report-{result.week.lower()}",
        description=f"axiswatch weekly report {result.week} (charts: {result.html_path})",
    )
    get_run_logger().info("report for %s written to %s", result.week, result.directory)
    if trigger == "schedule":
        print(f"{now_utc():%Y-%m-%d %H:%M:%S} UTC scheduled weekly report {result.week}: {result.html_path}")
    return {
        "week": result.week,
        "markdown": str(result.markdown_path),
        "html": str(result.html_path),
        "empty": result.empty,
    }
