"""Fan-out of a pipeline run into shard runs on the work pool (``axiswatch deploy``).

A pipeline run with ``shards`` > 1 (the parent) syncs the sources and lists the due feeds
itself, then runs two waves of ``pipeline-shard`` flow runs through ``run_deployment``
(subflow runs of the parent, started at once, executed by whichever workers poll the pool):

1. ingest: shard k polls the due sources whose stable hash (sha256 of ``source_id``) mod N is
   k, passed to it as a parameter, then fetches the pending entries of the sources of its
   residue (also entries a killed earlier attempt left pending);
2. score: shard k scores the unscored originals whose ``article_id`` hashes to k.

Scoring is a second wave, not the tail of the ingest shard, so that articles stored by one
shard are scored in the same pipeline run whichever shard stored them. Every shard writes its
own ``runs`` row (trigger ``shard:<parent run id>``, the shard's Prefect flow run id); the
parent sums the rows of the attempts that completed into its own row. A shard that crashed
(its worker killed) or failed is started again, up to ``shard_attempts`` times; the write
path is keyed, so a re-run stores nothing twice. Plain functions; Prefect is imported lazily.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from flows.ingest.counts import IngestCounts
from flows.settings import Settings
from warehouse import ingest_ops as store
from warehouse import query
from warehouse.score_ops import RegisterModel
from warehouse.sink import Sink

SHARD_FLOW = "pipeline-shard"
SHARD_DEPLOYMENT = f"{SHARD_FLOW}/{SHARD_FLOW}"
POLL_SECONDS = 2.0
Say = Callable[[str], None]


class FanoutError(RuntimeError):
    """A fanned-out run cannot start its shards (no ``pipeline-shard`` deployment on the API)."""


def shard_of(key: str, shards: int) -> int:
    """The shard of a source id or article id: sha256 of the key mod ``shards`` (stable everywhere)."""
    return int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:8], "big") % shards


def split(keys: Sequence[str], shards: int) -> list[list[str]]:
    """The keys of each shard, in their given order."""
    groups: list[list[str]] = [[] for _ in range(shards)]
    for key in keys:
        groups[shard_of(key, shards)].append(key)
    return groups


@dataclass(frozen=True)
class Shard:
    """One shard of a fanned-out run: its index, the shard count and (ingest) its due sources."""

    index: int
    count: int
    source_ids: frozenset[str] | None = None

    def owns(self, key: str) -> bool:
        """True when a source id or article id belongs to this shard."""
        return shard_of(key, self.count) == self.index

    def label(self, stage: str) -> str:
        """``ingest shard 1/2``: how logs and the runs ledger name it."""
        return f"{stage} shard {self.index + 1}/{self.count}"


def shard_due(sink: Sink, shard: Shard, interval_minutes: float) -> list[store.DueSource]:
    """The due sources among the shard's own (a source a killed attempt already polled is no
    longer due: its entries are fetched as pending ones)."""
    from warehouse.db import now_utc

    with sink.read() as con:
        due = store.due_sources(con, now_utc(), interval_minutes)
    wanted = shard.source_ids
    return [d for d in due if shard.owns(d.source_id) and (wanted is None or d.source_id in wanted)]


def _launch(params: dict[str, Any], name: str, key: str) -> str:
    """Create one shard flow run on the pool (a subflow run of the caller); return its id."""
    from prefect.deployments import run_deployment
    from prefect.exceptions import ObjectNotFound

    try:
        run: Any = run_deployment(
            SHARD_DEPLOYMENT,
            parameters=params,
            timeout=0,
            as_subflow=True,
            flow_run_name=name,
            idempotency_key=key,
            tags=["axiswatch", "shard"],
        )
    except ObjectNotFound:
        raise FanoutError(
            f"shards > 1 needs the {SHARD_DEPLOYMENT} deployment on the Prefect server: run "
            "`axiswatch deploy --work-pool NAME` with PREFECT_API_URL set, and start workers"
        ) from None
    return str(run.id)


def run_shards(
    settings: Settings, stage: str, params: list[dict[str, Any]], parent_run_id: int, say: Say
) -> tuple[list[str], list[str]]:
    """Run one wave of shard flow runs and wait for them, starting a crashed or failed shard
    again up to ``shard_attempts`` times; (completed flow run ids, lines for lost shards)."""
    from prefect.client.orchestration import get_client

    count = len(params)
    attempts = dict.fromkeys(range(count), 1)

    def launch(k: int) -> str:
        label = Shard(k, count).label(stage)
        key = f"{parent_run_id}-{stage}-{k}-{attempts[k]}"
        return _launch(params[k], f"{label} of run {parent_run_id}", key)

    running = {k: launch(k) for k in range(count)}
    done: list[str] = []
    lost: list[str] = []
    deadline = time.monotonic() + settings.shard_timeout_seconds
    with get_client(sync_client=True) as client:
        while running:
            if time.monotonic() > deadline:
                lost += [f"{Shard(k, count).label(stage)}: not finished in time" for k in running]
                break
            time.sleep(POLL_SECONDS)
            for k, run_id in list(running.items()):
                state = client.read_flow_run(UUID(run_id)).state
                if state is None or not state.is_final():
                    continue
                del running[k]
                if state.is_completed():
                    done.append(run_id)
                    continue
                why = f"{Shard(k, count).label(stage)} {state.type.value.lower()}"
                why += f": {state.message}" if state.message else ""
                if attempts[k] < settings.shard_attempts:
                    attempts[k] += 1
                    say(f"{why}; starting it again (attempt {attempts[k]})")
                    running[k] = launch(k)
                else:
                    lost.append(why)
    return done, lost


def totals(sink: Sink, flow_run_ids: Sequence[str]) -> tuple[IngestCounts, int]:
    """The summed funnel counts and scored articles of the completed shard runs' ledger rows
    (the latest finished attempt of each flow run)."""
    counts, scored = IngestCounts(), 0
    if not flow_run_ids:
        return counts, scored
    with sink.read() as con:
        rows = query.rows(con, "shard_runs", {"ids": list(flow_run_ids)})
    for row in rows:
        names = ("feeds_polled", "feeds_failed", "discovered", "fetched", "extracted", "duplicates", "failed")
        numbers = dict(zip(names, row[1:8], strict=True))
        failures = Counter(json.loads(row[9] or "{}"))
        counts.add(IngestCounts(**numbers, not_modified=row[10], failures=failures))
        scored += row[8]
    return counts, scored


def shard_params(
    overrides: dict[str, Any], stage: str, parent_run_id: int, groups: list[list[str]] | None, count: int
) -> list[dict[str, Any]]:
    """The parameters of each shard flow run of one wave."""
    return [
        {
            "overrides": overrides,
            "stage": stage,
            "shard": k,
            "shards": count,
            "source_ids": groups[k] if groups is not None else None,
            "parent_run_id": parent_run_id,
        }
        for k in range(count)
    ]


def complete_version(settings: Settings, sink: Sink) -> str:
    """Register the model version as complete once no original is left unscored; its name."""
    from flows.score import stage as score
    from warehouse.db import now_utc
    from warehouse.score_ops import articles_to_score

    version = score.resolve_version(settings)
    with sink.read() as con:
        left = articles_to_score(con, version, 1)
    if not left:
        sink.apply([RegisterModel(version, score.read_card(settings), now_utc())])
    return version
