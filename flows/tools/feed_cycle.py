"""`python -m flows.tools.feed_cycle`: one polling cycle of many feeds on a DuckLake, measured.

A loopback site serves ``--feeds`` RSS feeds (50,000 by default) with ETags. A throwaway
PostgreSQL (flows/tools/pgserver.py) holds the lake's catalog, its table data goes to a local
directory. ``--workers`` processes each run one shard of the pipeline's waves, as the
``pipeline-shard`` runs of a work pool do (the same ``ingest_stage``/``score_stage`` calls; the
Prefect server and workers, whose start-up does not grow with the feeds, are left out). With
``--work-pool NAME`` the cycle runs through them instead (flows/tools/feed_cycle_pool.py):

1. priming: every feed is polled once (200, no items) and its validators stored;
2. then ``--new-share`` of the feeds (1% by default) get one new item whose page is served, and
   the measured cycle runs: an ingest wave (every feed polled: 304 for the others, the new pages
   fetched, extracted and stored) and a score wave.

It prints and writes (``--json``) the cycle's wall time per wave, polls/s, articles stored per
second, the catalog's load (PostgreSQL commits, rows inserted/updated/fetched, its CPU seconds and
database size) and the machine's load average at the start and end. docs/scaling-out.md's
sizing table comes from these figures.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flows.settings import Settings
from flows.tools import demo_site as demo
from flows.tools.bench_feeds import empty_feeds
from flows.tools.bench_scale import _wave
from flows.tools.bench_stages import fresh_dir, stage_settings
from flows.tools.cycle_measure import CATALOG_DB, add_new_items, catalog_stats, cycle_figures, delta
from flows.tools.feed_cycle_pool import render_pool, run_pool_cycle
from flows.tools.loopback import LoopbackServer
from flows.tools.pgserver import PostgresServer
from warehouse.lake import Lake


def run_cycle(
    settings: Settings,
    feeds: int,
    workers: int,
    share: float,
    workdir: Path,
    say: Any = print,
    pool: str | None = None,
) -> dict[str, Any]:
    """Prime, then measure one cycle (plain shard processes, or through work pool ``pool``)."""
    from flows.pipeline import prepare_task

    out: dict[str, Any] = {"feeds": feeds, "workers": workers, "new_share": share}
    out["machine"] = {"cpus": os.cpu_count(), "load_average_start": list(os.getloadavg())}
    with PostgresServer() as pg, LoopbackServer(host="127.0.0.1", port=0) as server:
        site_feeds = empty_feeds(server, feeds)
        lake = Lake(pg.createdb(CATALOG_DB), str(fresh_dir(workdir / "lake-data")))
        run = stage_settings(settings, fresh_dir(workdir / "run"))
        run = run.replace(
            warehouse=f"ducklake:postgres:{lake.catalog}",
            warehouse_data_path=lake.data_path,
            torch_threads=max(1, settings.torch_threads // workers),
            extract_workers=1,
        )
        demo.write_sources(site_feeds, server.base_url, run.sources_file)
        if pool is not None:  # the pipeline run's parent syncs the sources itself
            opts = {"pool": pool, "workers": workers, "workdir": workdir, "share": share, "say": say}
            out.update(run_pool_cycle(run, pg, server, site_feeds, lake, **opts))
            out["machine"]["load_average_end"] = list(os.getloadavg())
            return out
        prepare_task.fn(run, run.sink())  # the parent's part: sync sources
        say(f"feed_cycle: priming {feeds:,} feeds with {workers} workers")
        out["prime_s"] = _wave(run, "ingest", workers)
        out["changed_feeds"] = add_new_items(server, site_feeds, share)
        say(f"feed_cycle: primed in {out['prime_s']:.0f} s; {out['changed_feeds']} feeds have a new item")
        since, before = datetime.now(UTC), catalog_stats(pg)
        out["ingest_s"] = _wave(run, "ingest", workers)
        middle = catalog_stats(pg)
        out["score_s"] = _wave(run, "score", workers)
        after = catalog_stats(pg)
        out["catalog_ingest"], out["catalog_score"] = delta(middle, before), delta(after, middle)
        out["cycle"] = cycle_figures(lake, since)
        out["machine"]["load_average_end"] = list(os.getloadavg())
    c = out["cycle"]
    out["cycle_s"] = out["ingest_s"] + out["score_s"]
    out["polls_per_s"] = c["polls"] / out["ingest_s"]
    out["articles_per_s_ingest"] = c["articles"] / out["ingest_s"]
    out["articles_per_s_score"] = c["scored"] / out["score_s"] if out["score_s"] else 0.0
    return out


def render(r: dict[str, Any]) -> str:
    """The figures as a few lines."""
    c, ci = r["cycle"], r["catalog_ingest"]
    load = r["machine"]
    return "\n".join(
        [
            f"{r['feeds']:,} feeds, {r['workers']} worker processes, {r['changed_feeds']} with a new item",
            f"priming poll (all 200): {r['prime_s']:.0f} s",
            f"cycle: {r['cycle_s']:.0f} s = ingest {r['ingest_s']:.0f} s + score {r['score_s']:.0f} s",
            f"  polls {c['polls']:,} ({c['not_modified']:,} not modified, {c['failed']} failed), "
            f"{r['polls_per_s']:.0f} polls/s",
            f"  articles stored {c['articles']} ({r['articles_per_s_ingest']:.2f}/s over the ingest wave), "
            f"scored {c['scored']} ({r['articles_per_s_score']:.2f}/s)",
            f"  catalog during ingest: {ci['commits']:.0f} commits, {ci['inserted']:.0f} rows inserted, "
            f"{ci['updated']:.0f} updated, {ci['fetched']:.0f} fetched, PostgreSQL CPU {ci['cpu_s']:.0f} s, "
            f"catalog size {ci['size_bytes'] / 2**20:.0f} MiB",
            f"  load average at start {load['load_average_start'][0]:.1f}, "
            f"at end {load['load_average_end'][0]:.1f} ({load['cpus']} CPUs)",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run the cycle, print and write the figures."""
    p = argparse.ArgumentParser(prog="python -m flows.tools.feed_cycle", description=__doc__.split("\n")[0])
    p.add_argument("--feeds", type=int, default=50_000, help="feeds served and polled (default 50,000)")
    p.add_argument("--workers", type=int, default=2, help="shard processes per wave, or workers (default 2)")
    p.add_argument("--new-share", type=float, default=0.01, help="share of feeds with a new item (0.01)")
    p.add_argument("--data-dir", type=Path, default=Path("var/feed-cycle"), help="work directory")
    p.add_argument("--json", type=Path, help="also write the figures as JSON here")
    p.add_argument(
        "--work-pool",
        metavar="NAME",
        help="drive the cycle as users run it: a Prefect server, `axiswatch deploy --work-pool NAME"
        " --shards WORKERS`, WORKERS `prefect worker start` processes, timed pipeline runs",
    )
    args = p.parse_args(argv)
    if args.feeds < 1 or args.workers < 1 or not 0 <= args.new_share <= 1:
        p.error("--feeds and --workers must be >= 1, --new-share within [0, 1]")
    settings = Settings.load()
    started = time.perf_counter()
    workdir = args.data_dir.resolve()
    figures = run_cycle(settings, args.feeds, args.workers, args.new_share, workdir, pool=args.work_pool)
    figures["total_s"] = time.perf_counter() - started
    print(render_pool(figures) if args.work_pool else render(figures))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
