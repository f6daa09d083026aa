"""The `axiswatch` command: parses arguments into Settings, then calls a flow or a function."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import flows.cli.jsonout as jsonout
import flows.cli.search as search
import flows.cli.sql as sqlcli
from flows.cli.argv import not_utf8
from flows.cli.common import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    print_result,
    settings_from_args,
    warehouse_message,
)
from flows.ingest.sources import SourcesError, load_sources
from flows.orchestration import launch, progress
from flows.orchestration.launch import overrides_of, preflight, run_flow
from flows.orchestration.runlock import RunActive, RunLockError, exclusive_run, file_of
from flows.settings import Settings, SettingsError
from warehouse.db import WarehouseError

BENCH_SECTIONS = (
    "no_change",
    "many_feeds",
    "feed_parse",
    "fetch",
    "extract",
    "score",
    "store",
    "end_to_end",
    "scale",
)  # flows/tools/bench.py runs them in this order (not imported here: it loads psutil and more)
DESCRIPTION = """\
axiswatch: week by week, how published commentary places South Korea between Washington
and Beijing. It polls the RSS/Atom feeds of the outlets in a sources file, fetches and
extracts each new article, scores the stance of every relevant passage (toward Washington,
hedging, toward Beijing) with a calibrated classifier, and keeps everything in a DuckDB
warehouse for ad hoc SQL and a weekly trend report."""
EPILOG = """\
start here:
  axiswatch run        one pipeline run now (ingest, score, search index)
  axiswatch serve      run it on a schedule (starts a local Prefect server; UI address printed)
  axiswatch status     what happened, what needs attention (exit 1 when something does)
  axiswatch report     the report of the last complete week
  axiswatch alerts     stance shifts found after each run (list, show, ack)
data lives under --data-dir (default ./var); `axiswatch COMMAND --help` for each command."""


def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    """`axiswatch ingest`: one ingest run now."""
    load_sources(settings.sources_file)  # fail fast, before Prefect starts
    preflight(settings)
    with exclusive_run(settings.data_dir, "axiswatch ingest", warehouse=file_of(settings.location)):
        result = run_flow(settings, launch.ingest)
    print_result(args, result, _funnel_lines({"flow": "ingest run", **result}, settings))
    return EXIT_OK if result["outcome"] in ("ok", "partial") else EXIT_FAILED


def _funnel_lines(result: dict[str, Any], settings: Settings) -> list[str]:
    """Human lines for a pipeline/ingest result."""
    lines = [
        f"{result.get('flow', 'run')} {result['run_id']}: {result['outcome']}",
        f"  feeds polled {result['feeds_polled']} (unchanged {result['not_modified']},"
        f" failed {result['feeds_failed']})",
        f"  entries discovered {result['discovered']}, pages fetched {result['fetched']}",
        f"  articles stored {result['extracted']}, duplicates {result['duplicates']},"
        f" failed {result['failed']}",
    ]
    if "scored" in result:
        lines.append(f"  articles scored {result['scored']} (model {result.get('model_version')})")
    if "alerts" in result:
        from flows.cli.alerting import run_line

        lines.append(run_line(result["alerts"]))
    lines += [f"  failures by class: {result['failures_json']}", f"  warehouse: {settings.location}"]
    return lines


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    """`axiswatch run`: one pipeline run now (ingest → score → search index)."""
    load_sources(settings.sources_file)  # fail fast, before Prefect starts
    preflight(settings)
    with exclusive_run(settings.data_dir, "axiswatch run", warehouse=file_of(settings.location)):
        result = run_flow(settings, launch.pipeline, trigger=args.trigger)
    print_result(args, result, _funnel_lines({"flow": "pipeline run", **result}, settings))
    return EXIT_OK if result["outcome"] in ("ok", "partial") else EXIT_FAILED


def cmd_score(args: argparse.Namespace, settings: Settings) -> int:
    """`axiswatch score`: score every article the model version has not scored."""
    result = run_flow(settings, launch.score, rescore=args.rescore)
    print_result(args, result, [f"scored {result['scored']} articles with model {result['model_version']}"])
    return EXIT_OK


def check_report_args(args: argparse.Namespace, settings: Settings) -> None:
    """Validate --week, --weeks and --out before Prefect starts (SettingsError: exit 2)."""
    from flows.report.calendar import ReportError, resolve_week, week_window

    try:
        week_window(resolve_week(args.week, settings.timezone), args.weeks)
    except ReportError as exc:
        raise SettingsError(f"report: {exc}") from None
    if getattr(args, "reports_dir", None) is None:
        return  # the default DATA_DIR/reports: a storage problem there is the preflight's (exit 1)
    out = settings.report_path
    if out.exists() and not out.is_dir():
        raise SettingsError(f"report: --out {out} is a file, not a directory")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SettingsError(f"report: cannot create --out {out}: {exc.strerror}") from None
    if not os.access(out, os.W_OK):
        raise SettingsError(f"report: --out {out} is not writable")


def cmd_report(args: argparse.Namespace, settings: Settings) -> int:
    """`axiswatch report`: draw the weekly trend report (and publish it as a Prefect artifact)."""
    check_report_args(args, settings)
    result = run_flow(settings, launch.weekly_report, week=args.week, weeks=args.weeks)
    print_result(
        args, result, [f"report {result['week']}: {result['markdown']}", f"  html: {result['html']}"]
    )
    return EXIT_OK


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    """`axiswatch serve`: serve the scheduled deployments until interrupted, on a supervised local
    Prefect server unless PREFECT_API_URL names one."""
    import signal

    from flows.orchestration import prefect_env, prefect_server

    signal.signal(signal.SIGINT, signal.default_int_handler)  # even if started with SIGINT ignored (`cmd &`)
    load_sources(settings.sources_file)
    home = prefect_env.configure(settings)
    if os.environ.get("PREFECT_API_URL"):
        print(f"axiswatch serve: using the Prefect server at {os.environ['PREFECT_API_URL']}", flush=True)
        return _serve(settings)
    try:
        with prefect_server.local_server(
            home, settings.prefect_port, database_url=settings.prefect_database_url
        ) as api_url:
            os.environ["PREFECT_API_URL"] = api_url
            return _serve(settings)
    except prefect_server.ServerError as exc:
        print(f"axiswatch serve: {exc}", file=sys.stderr)
        return EXIT_FAILED


def _serve(settings: Settings) -> int:
    """Register the deployments on the configured Prefect API and run them until stopped."""
    from flows.orchestration.serve import serve

    serve(settings, overrides_of(settings))
    return EXIT_OK


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    """`axiswatch demo`: serve the offline demo corpus on loopback and run the pipeline on it."""
    from flows.tools.demo import run_demo

    return run_demo(settings, port=args.port, quiet=args.quiet)


def cmd_bench(args: argparse.Namespace, settings: Settings) -> int:
    """`axiswatch bench`: stage-by-stage throughput and memory on this machine (flows/tools/bench.py)."""
    from flows.tools.bench import bench_command

    options = {name: getattr(args, name) for name in ("quick", "pages", "repeats", "quiet")}
    options["only"] = tuple(args.only or ())
    return bench_command(settings, json_path=args.json, **options)


def cmd_sources(args: argparse.Namespace, settings: Settings) -> int:
    """`axiswatch sources check [FILE]`: validate a sources file offline and summarise it."""
    from flows.ingest.sources import summary_lines

    path = args.file or settings.sources_file
    found = load_sources(path)  # SourcesError -> exit 2 with file:line in main()
    print_result(args, {"file": str(path), "sources": len(found)}, summary_lines(path, found))
    return EXIT_OK


def cmd_status(args: argparse.Namespace, settings: Settings) -> int:
    """`axiswatch status`: last runs, source health, weekly volumes; exit 1 if attention is needed."""
    import flows.cli.status as status
    from warehouse.db import WarehouseError

    try:
        snapshot = status.collect(settings)
    except WarehouseError as exc:
        print(f"axiswatch status: {warehouse_message(exc, settings)}", file=sys.stderr)
        return EXIT_FAILED
    if args.json:
        print(jsonout.dumps(snapshot))
    elif not args.quiet:
        print(status.render(snapshot, sources=args.per_source))
    return EXIT_FAILED if snapshot.attention else EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", type=Path, help="warehouse file (default: DATA_DIR/axiswatch.duckdb)")
    common.add_argument("--data-dir", type=Path, help="data directory (default ./var)")
    common.add_argument("--quiet", action="store_true", help="print nothing on success")
    with_json = argparse.ArgumentParser(add_help=False, parents=[common])
    with_json.add_argument("--json", action="store_true", help="print the result as JSON")
    parser = argparse.ArgumentParser(
        prog="axiswatch",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("ingest", parents=[with_json], help="poll feeds, fetch and store new articles")
    p.add_argument("--sources", type=Path, help="sources file (default seeds/sources.toml)")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("run", parents=[with_json], help="one pipeline run now: ingest, score, search index")
    p.add_argument("--sources", type=Path, help="sources file (default seeds/sources.toml)")
    p.add_argument("--trigger", default="manual", choices=("manual", "schedule"), help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("score", parents=[with_json], help="score articles the model has not scored")
    p.add_argument("--model", help="model version (default: the newest built artifact)")
    p.add_argument("--rescore", action="store_true", help="drop and redo this version's scores")
    p.set_defaults(func=cmd_score)

    p = sub.add_parser("report", parents=[with_json], help="draw the weekly trend report")
    p.add_argument("--week", help="ISO week, e.g. 2026-W48, or 'current' (default: the last complete week)")
    p.add_argument("--weeks", type=int, default=12, help="weeks of history in the charts")
    p.add_argument("--out", type=Path, dest="reports_dir", help="output directory (default DATA_DIR/reports)")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("serve", parents=[common], help="serve the scheduled pipeline and weekly report")
    p.add_argument("--sources", type=Path, help="sources file (default seeds/sources.toml)")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser(
        "demo",
        help="run the pipeline on the offline demo corpus",
        description="Serve the offline demo corpus on loopback, run the pipeline on it and draw the "
        "weekly report. Everything goes under DATA_DIR/demo (default ./var/demo): the warehouse, "
        "sources.toml, the reports and Prefect's home.",
    )
    p.add_argument(
        "--db", type=Path, help="warehouse file (default: DATA_DIR/demo/axiswatch.duckdb, ./var/demo/…)"
    )
    p.add_argument(
        "--data-dir",
        type=Path,
        help="data directory; the demo writes under DATA_DIR/demo (default ./var/demo)",
    )
    p.add_argument("--quiet", action="store_true", help="print nothing on success (and no progress)")
    p.add_argument("--port", type=int, default=8731, help="loopback port for the demo server (0: any)")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("bench", help="measure each stage's throughput and memory on this machine")
    p.add_argument("--json", type=Path, metavar="FILE", help="also write the figures as JSON to FILE")
    p.add_argument("--quick", action="store_true", help="a fast subset: 10 pages, one repetition")
    p.add_argument("--pages", type=int, help="use only the first N benchmark pages")
    p.add_argument("--repeats", type=int, help="runs per figure (median; default 3, 1 with --quick)")
    p.add_argument("--data-dir", type=Path, help="data directory; work files go to DATA_DIR/bench")
    p.add_argument("--quiet", action="store_true", help="print nothing")
    p.add_argument(
        "--only",
        action="append",
        choices=BENCH_SECTIONS,
        metavar="SECTION",
        help=f"run only this section (repeatable): {', '.join(BENCH_SECTIONS)}",
    )
    p.set_defaults(func=cmd_bench)

    sqlcli.register(sub, with_json)
    search.register(sub, with_json)

    p = sub.add_parser("sources", parents=[common], help="check a sources file (no network, no warehouse)")
    p.add_argument("action", choices=("check",), help="check: validate and summarise")
    p.add_argument("file", nargs="?", type=Path, help="sources file (default seeds/sources.toml)")
    p.set_defaults(func=cmd_sources)

    p = sub.add_parser("status", parents=[with_json], help="runs, source health, volumes; exit 1 on problems")
    p.add_argument("--per-source", action="store_true", help="also print the per-source table")
    p.set_defaults(func=cmd_status)

    _register_model_commands(sub, common)
    _register_web_commands(sub, common)
    import flows.cli.alerting as alerts_cli

    alerts_cli.register(sub, common, with_json)
    from flows.orchestration import deploy

    deploy.register(sub, common)
    return parser


def _register_model_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add `model build|eval` and `classify` from the models package."""
    import flows.cli.model as model_cli

    model_cli.register(sub, settings_from_args)


def _register_web_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add `web` and `labels export` (flows/cli/analyst_labels.py)."""
    import flows.cli.analyst_labels as labels_cli

    labels_cli.register(sub, common)
    import flows.cli.warehouse as warehouse_cli

    warehouse_cli.register(sub, common)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `axiswatch` console script."""
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")  # no weight-loading bars on stdout/stderr
    parser = build_parser()
    args = parser.parse_args(argv)
    progress.configure(quiet=bool(getattr(args, "quiet", False)))
    undecodable = not_utf8(args)
    if undecodable:
        print(f"axiswatch: {undecodable}", file=sys.stderr)
        return EXIT_USAGE
    try:
        settings = settings_from_args(args)
        code: int = args.func(args, settings)
        return code
    except (SettingsError, SourcesError) as exc:
        print(f"axiswatch: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (WarehouseError, RunActive, RunLockError) as exc:  # e.g. locked beyond our patience
        message = warehouse_message(exc, settings) if isinstance(exc, WarehouseError) else str(exc)
        print(f"axiswatch: {message}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("axiswatch: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
