"""Bench section `many_feeds`: a no-change poll of many feeds (2,000 by default) on loopback.

Every feed is a small, valid RSS document without items, served with an ETag, so after a
first (untimed) `axiswatch run` stores the validators, every later poll answers 304. The
timed figure is a fresh `axiswatch run` process end to end, Prefect's start included: what a
scheduled run costs when nothing changed. Target: well inside the 30-minute cadence (< 120 s).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flows.settings import Settings
from flows.tools import bench_runs as runs
from flows.tools import bench_stages as stages
from flows.tools import demo_site as demo
from flows.tools.loopback import LoopbackServer

COUNTRIES = (("KR", "ko"), ("CN", "zh"), ("US", "en"), ("JP", "ja"))


def empty_feeds(server: LoopbackServer, count: int) -> list[demo.DemoFeed]:
    """Serve ``count`` item-less RSS feeds (conditional: ETag, 304) and return them."""
    feeds = []
    for n in range(count):
        country, language = COUNTRIES[n % len(COUNTRIES)]
        feed = demo.DemoFeed(f"bench-{n:05d}", f"Bench outlet {n}", country, language, "blog", "independent")
        server.route(
            f"/feeds/{feed.source_id}.xml",
            demo.render_feed(feed, server.base_url),
            content_type="application/rss+xml",
        )
        feeds.append(feed)
    return feeds


def measure_many_feeds(settings: Settings, workdir: Path, count: int, repeats: int) -> dict[str, Any]:
    """Seconds of `axiswatch run` (fresh process) polling ``count`` feeds that all answer 304."""
    server = LoopbackServer(host="127.0.0.1", port=0).start()
    try:
        feeds = empty_feeds(server, count)
        run = stages.stage_settings(settings, stages.fresh_dir(workdir / "many-feeds"))
        demo.write_sources(feeds, server.base_url, run.sources_file)
        env = runs.subprocess_env(run, workdir / "prefect")
        env["AXISWATCH_HOST_CONCURRENCY"] = str(run.host_concurrency)  # stands for many hosts
        command = runs.no_change_command(run)
        out: dict[str, Any] = {"feeds": count, "run_s": []}
        out["first_run_s"] = runs._run_child(command, env, workdir)[0]  # stores the ETags
        for _ in range(repeats):
            elapsed, stdout = runs._run_child(command, env, workdir)
            out["run_s"].append(elapsed)
            out["result"] = runs._check_no_change(stdout, count)
        return out
    finally:
        server.stop()
