"""`axiswatch bench`'s scale section: the DuckLake warehouse against the embedded DuckDB file.

- ``commit_ms_per_article``: wall milliseconds per article of the ``store_article`` write (its
  duplicate lookups, the document, article and band rows, the entry links) as ingest writes them
  into a fresh warehouse: on the file one transaction per article, on a lake whose catalog is a
  throwaway PostgreSQL on this machine (flows/tools/pgserver.py, data in a local directory) a
  fetch batch's articles in one commit, applied set-wise (warehouse/article_batch.py).
- ``workers``: articles per second of ingest + score of the bench corpus (a) in one process on
  the file, (b) in one process on the lake, (c) in two processes at once on the lake, each
  doing one shard (the sources and article ids a pipeline-shard run of two would take), which
  is the work two pool workers do in parallel. The printed ratios: the lake's ingest time over
  the file's (target <= 1.5) and two lake processes' articles/s over one's (target > 1).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from flows.settings import Settings
from flows.tools import demo_site as demo
from flows.tools.bench_stages import (
    SUBPROCESS_TIMEOUT_S,
    BenchSite,
    article_like_rows,
    fresh_dir,
    settings_json,
    stage_settings,
)
from flows.tools.pgserver import PostgresServer
from warehouse import query
from warehouse.article_ops import ArticleText, StoreArticle
from warehouse.db import Location, now_utc, reader
from warehouse.lake import Lake
from warehouse.sink import Sink


def new_lake(pg: PostgresServer, workdir: Path, name: str) -> Lake:
    """A new empty lake: its own catalog database and data directory."""
    return Lake(pg.createdb(name), str(fresh_dir(workdir / name)))


def _store_articles(location: Location, spool: Path, rows: Sequence[dict[str, Any]], batch: int) -> float:
    """Seconds to store ``rows``, ``batch`` per write window, as ingest does (one transaction per
    article on a file, batched commits on a lake; created and migrated first, outside the timing)."""
    sink = Sink(location, spool, 30.0)
    with sink.read():
        pass
    started = time.perf_counter()
    for start in range(0, len(rows), batch):
        texts = [ArticleText.from_row(r) for r in rows[start : start + batch]]
        ops = [StoreArticle(t, None, t.canonical_url, 0.9, now_utc()) for t in texts]
        results = sink.apply(ops)
        if results is None or any(isinstance(r, Exception) for r in results):
            raise RuntimeError(f"store_article failed on {location}: {results}")
    return time.perf_counter() - started


def measure_commit_cost(
    pg: PostgresServer, workdir: Path, texts: Sequence[str], batch: int, repeats: int
) -> dict[str, Any]:
    """Milliseconds per stored article on the file and on the lake (median of ``repeats``)."""
    rows = article_like_rows(texts, len([t for t in texts if t.strip()]) or 1)
    out: dict[str, Any] = {"articles": len(rows), "batch": batch}
    for kind in ("file", "lake"):
        runs = []
        for rep in range(repeats):
            name = f"commit-{kind}-{rep}"
            location: Location = (
                fresh_dir(workdir / name) / "w.duckdb" if kind == "file" else new_lake(pg, workdir, name)
            )
            runs.append(_store_articles(location, workdir / f"{name}-spool", rows, batch))
        out[f"{kind}_seconds"] = runs
        out[f"{kind}_ms_per_article"] = statistics.median(runs) * 1000 / len(rows)
    out["lake_over_file"] = out["lake_ms_per_article"] / out["file_ms_per_article"]
    return out


def _shard_child(run: Settings, stage: str, index: int, count: int) -> subprocess.Popen[str]:
    """One process doing one shard of a stage (what a pool worker's shard run does, minus Prefect)."""
    code = (
        "import json, sys\n"
        "from flows.orchestration.fanout import Shard\n"
        "from flows.pipeline import ingest_stage, score_stage\n"
        "from flows.settings import Settings\n"
        "run = Settings.load(env={}, **json.loads(sys.argv[1]))\n"
        "shard = Shard(int(sys.argv[3]), int(sys.argv[4]))\n"
        "if sys.argv[2] == 'ingest':\n"
        "    ingest_stage(run, plain=True, shard=shard)\n"
        "else:\n"
        "    score_stage(run, plain=True, shard=shard)\n"
    )
    args = [sys.executable, "-c", code, settings_json(run), stage, str(index), str(count)]
    return subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def _wave(run: Settings, stage: str, count: int) -> float:
    """Seconds for ``count`` shard processes of one stage, all started at once, to finish."""
    started = time.perf_counter()
    children = [_shard_child(run, stage, i, count) for i in range(count)]
    errors = [c.communicate(timeout=SUBPROCESS_TIMEOUT_S)[1] for c in children]
    failed = [e.strip().splitlines()[-1] for c, e in zip(children, errors, strict=True) if c.returncode and e]
    if any(c.returncode for c in children):
        raise RuntimeError(f"a {stage} shard failed: {failed}")
    return time.perf_counter() - started


def workers_once(
    settings: Settings, site: BenchSite, run_dir: Path, location: Location, count: int
) -> dict[str, Any]:
    """Ingest then score the bench corpus in ``count`` shard processes per wave; rates."""
    from flows.pipeline import prepare_task

    run = stage_settings(settings, fresh_dir(run_dir))
    threads = max(1, settings.torch_threads // count)  # the processes share the machine's cores
    run = run.replace(torch_threads=threads, extract_workers=max(1, run.extract_workers // count))
    if isinstance(location, Lake):
        run = run.replace(
            warehouse=f"ducklake:postgres:{location.catalog}", warehouse_data_path=location.data_path
        )
    else:
        run = run.replace(db_path=location)
    demo.write_sources(site.feeds, site.server.base_url, run.sources_file)
    prepare_task.fn(run, run.sink())  # the parent's part: spool, sources
    ingest_s = _wave(run, "ingest", count)
    score_s = _wave(run, "score", count)
    stored = count_articles(location)
    return {
        "articles": stored,
        "ingest_s": ingest_s,
        "score_s": score_s,
        "articles_per_s": stored / (ingest_s + score_s),
    }


def measure_workers(
    settings: Settings, site: BenchSite, pg: PostgresServer, workdir: Path, repeats: int
) -> dict[str, Any]:
    """Embedded file with one process; lake with one and with two processes (median of repeats)."""
    out: dict[str, Any] = {}
    for label, kind, count in (("file_1", "file", 1), ("lake_1", "lake", 1), ("lake_2", "lake", 2)):
        runs = []
        for rep in range(repeats):
            name = f"workers-{label}-{rep}"
            location: Location = (
                fresh_dir(workdir / f"{name}-db") / "w.duckdb"
                if kind == "file"
                else new_lake(pg, workdir, name)
            )
            runs.append(workers_once(settings, site, workdir / name, location, count))
        best = sorted(runs, key=lambda r: r["articles_per_s"])[len(runs) // 2]
        out[label] = best
    out["lake_2_over_lake_1"] = out["lake_2"]["articles_per_s"] / out["lake_1"]["articles_per_s"]
    out["lake_1_over_file_1"] = out["lake_1"]["articles_per_s"] / out["file_1"]["articles_per_s"]
    return out


def measure_scale(settings: Settings, site: BenchSite, workdir: Path, repeats: int) -> dict[str, Any]:
    """The scale section: a throwaway PostgreSQL, then commit cost and worker throughput."""
    with PostgresServer() as pg:
        return {
            "commit": measure_commit_cost(pg, workdir, site.articles, settings.batch_size, repeats),
            "workers": measure_workers(settings, site, pg, workdir, repeats),
        }


def count_articles(location: Location) -> int:
    """Articles stored in a warehouse."""
    with reader(location) as con:
        row = query.one(con, "count_articles")
    return int(row[0]) if row else 0
