"""`axiswatch demo`: serve the demo corpus on loopback, run the pipeline on it, show what it stored."""

from __future__ import annotations

import errno
import sys

import flows.cli.texttable as texttable
from flows.settings import Settings
from flows.tools.demo_site import build_site, write_sources
from flows.tools.loopback import LoopbackServer
from warehouse import query
from warehouse.db import now_utc, reader

DEMO_QUERIES = "queries/demo"  # warehouse/queries/demo/*.sql: the summary tables, in order


def demo_settings(settings: Settings, base_url: str) -> Settings:
    """Settings for the demo: its own data dir, loopback allowed, no politeness delay."""
    data_dir = settings.data_dir / "demo"
    return settings.replace(
        data_dir=data_dir,
        sources_file=data_dir / "sources.toml",
        allow_hosts=("127.0.0.1",),
        host_delay_seconds=0.0,
        poll_interval_minutes=0.0,
        retries=0,
    )


def start_server(port: int) -> LoopbackServer:
    """Start the demo server on ``port``, or on any free port if that one is taken."""
    try:
        return LoopbackServer(port=port).start()
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE:
            raise
        print(f"port {port} is taken; serving the demo on a free port instead", file=sys.stderr)
        return LoopbackServer(port=0).start()


def print_summary(settings: Settings) -> None:
    """Print what the demo stored, straight from the warehouse (read-only)."""
    with reader(settings.location) as con:
        for name in query.names(DEMO_QUERIES):
            columns, rows = query.table(con, name, kind=DEMO_QUERIES)
            cells = [["" if v is None else str(v) for v in row] for row in rows]
            print(f"\n## {query.title(name, DEMO_QUERIES)}\n{texttable.table(columns, cells)}")


def run_demo(settings: Settings, *, port: int = 8731, quiet: bool = False) -> int:
    """Serve the demo corpus, run the pipeline against it, print a summary; exit code."""
    from flows.orchestration import launch
    from flows.orchestration.launch import run_flow

    server = start_server(port)
    try:
        demo = demo_settings(settings, server.base_url)
        feeds = build_site(server, now_utc())
        write_sources(feeds, server.base_url, demo.sources_file)
        if not quiet:
            print(
                f"demo: {len(feeds)} feeds served on {server.base_url} (publication dates are "
                "synthetic, spread over the last 12 weeks)"
            )
        result = run_flow(demo, launch.pipeline)
    finally:
        server.stop()
    report = run_flow(demo, launch.weekly_report)
    if not quiet:
        print(
            f"pipeline run {result['run_id']}: {result['outcome']}; feeds {result['feeds_polled']} "
            f"(unchanged {result['not_modified']}), new entries {result['discovered']}, "
            f"articles stored {result['extracted']}, duplicates {result['duplicates']}, "
            f"failed pages {result['failed']}, scored {result['scored']} (model {result['model_version']})"
        )
        print_summary(demo)
        print(
            f"\nweekly report {report['week']}: {report['markdown']}\n  charts embedded in {report['html']}"
        )
        print(f"warehouse: {demo.warehouse_path}")
    return 0 if result["outcome"] in ("ok", "partial") else 1
