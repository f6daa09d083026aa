"""The `axiswatch` command: parses arguments into Settings, then calls a flow or a function."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from flows.runlock import RunActive, RunLockError, exclusive_run
from flows.settings import Settings, SettingsError
from flows.sources import SourcesError, load_sources
from warehouse.db import WarehouseError

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def settings_from_args(args: argparse.Namespace) -> Settings:
    """Build the one Settings object: defaults, then AXISWATCH_* env, then flags."""
    overrides = {
        "db_path": getattr(args, "db", None),
        "data_dir": getattr(args, "data_dir", None),
        "sources_file": getattr(args, "sources", None),
        "model_version": getattr(args, "model", None),
        "reports_dir": getattr(args, "reports_dir", None),
    }
    return Settings.load(**{k: v for k, v in overrides.items() if v is not None})


def overrides_of(settings: Settings) -> dict[str, Any]:
    """The settings that differ from defaults+env, as JSON-able flow parameters."""
    base = Settings.load()
    out: dict[str, Any] = {}
    for name in settings.__dataclass_fields__:
        value = getattr(settings, name)
        if value != getattr(base, name):
            out[name] = (
                [str(v) for v in value]
                if isinstance(value, tuple)
                else (str(value) if isinstance(value, Path) else value)
            )
    return out


def _print(args: argparse.Namespace, payload: dict[str, Any], lines: list[str]) -> None:
    """Print a result as JSON (--json) or as human lines (unless --quiet)."""
    if getattr(args, "json", False):
        print(json.dumps(payload, default=str, ensure_ascii=False))
    elif not getattr(args, "quiet", False):
        print("\n".join(lines))


def preflight(settings: Settings) -> None:
    """Storage checks before Prefect starts (writable data dir with room, a sound warehouse)."""
    from warehouse.health import check_data_dir
    from warehouse.health import preflight as check

    check(settings.data_dir, settings.warehouse_path)
    if not str(settings.report_path).startswith(str(settings.data_dir)):
        check_data_dir(settings.report_path)


def run_flow(settings: Settings, name: str, **params: Any) -> dict[str, Any]:
    """Run one of the Prefect flows of flows/pipeline.py on the configured API (after preflight)."""
    from flows import prefect_env

    preflight(settings)
    prefect_env.configure(settings)  # before prefect is imported
    from prefect.exceptions import FailedRun

    try:
        from flows import pipeline

        fn = getattr(pipeline, f"{name}_flow")
        try:
            result: dict[str, Any] = fn(overrides=overrides_of(settings), **params)
        finally:
            if sys.stderr.isatty():
                print(file=sys.stderr)  # end the progress line
        return result
    except FailedRun as exc:  # a flow that stopped on a known fault returned Failed(message)
        raise SystemExit(f"axiswatch: {exc}") from None
    except Exception as exc:
        if prefect_env.is_database_locked(exc):
            raise SystemExit(
                f"axiswatch: Prefect's local database under {settings.data_dir / 'prefect'} is locked "
                "by another process (is `axiswatch serve` or another run active?). Wait for it to "
                "finish, or point PREFECT_API_URL at a Prefect server."
            ) from None
        raise


def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    """`axiswatch ingest`: one ingest run now."""
    load_sources(settings.sources_file)  # fail fast, before Prefect starts
    preflight(settings)
    with exclusive_run(settings.data_dir, "axiswatch ingest"):
        result = run_flow(settings, "ingest")
    _print(args, result, _funnel_lines({"flow": "ingest run", **result}, settings))
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
    lines += [f"  failures by class: {result['failures_json']}", f"  warehouse: {settings.warehouse_path}"]
    return lines


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    """`axiswatch run`: one pipeline run now (ingest → score → search index)."""
    load_sources(settings.sources_file)  # fail fast, before Prefect starts
    preflight(settings)
    with exclusive_run(settings.data_dir, "axiswatch run"):
        result = run_flow(settings, "pipeline", trigger=args.trigger)
    _print(args, result, _funnel_lines({"flow": "pipeline run", **result}, settings))
    return EXIT_OK if result["outcome"] in ("ok", "partial") else EXIT_FAILED


def cmd_score(args: argparse.Namespace, settings: Settings) -> int:
    """`axiswatch score`: score every article the model version has not scored."""
    result = run_flow(settings, "score", rescore=args.rescore)
    _print(args, result, [f"scored {result['scored']} articles with model {result['model_version']}"])
    return EXIT_OK


def cmd_report(args: argparse.Namespace, settings: Settings) -> int:
    """`axiswatch report`: draw the weekly trend report (and publish it as a Prefect artifact)."""
    result = run_flow(settings, "weekly_report", week=args.week, weeks=args.weeks)
    _print(args, result, [f"report {result['week']}: {result['markdown']}", f"  html: {result['html']}"])
    return EXIT_OK


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    """`axiswatch serve`: serve the scheduled deployments until interrupted."""
    from flows import prefect_env

    load_sources(settings.sources_file)
    prefect_env.configure(settings)
    from flows.serve import serve

    serve(settings, overrides_of(settings))
    return EXIT_OK


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    """`axiswatch demo`: serve the offline demo corpus on loopback and run the pipeline on it."""
    from flows.demo_run import run_demo

    return run_demo(settings, port=args.port, quiet=args.quiet)


def cmd_bench(args: argparse.Namespace, settings: Settings) -> int:
    """`axiswatch bench`: stage-by-stage throughput and memory on this machine (flows/bench.py)."""
    from flows.bench import bench_command

    options = {name: getattr(args, name) for name in ("quick", "pages", "repeats", "quiet")}
    return bench_command(settings, json_path=args.json, **options)


def cmd_sql(args: argparse.Namespace, settings: Settings) -> int:
    """`axiswatch sql`: run ad hoc SQL on the warehouse, read-only."""
    from flows import sqlcli

    try:
        query = sqlcli.read_query(args.query, args.file)
        columns, rows = sqlcli.run_query(
            settings.warehouse_path, query, settings.timezone, allow_dir=args.allow_files
        )
    except sqlcli.SqlError as exc:
        print(f"axiswatch sql: {exc}", file=sys.stderr)
        return EXIT_FAILED
    if columns:
        print(sqlcli.render(columns, rows, args.format))
    return EXIT_OK


def cmd_sources(args: argparse.Namespace, settings: Settings) -> int:
    """`axiswatch sources check [FILE]`: validate a sources file offline and summarise it."""
    from flows.sources import summary_lines

    path = args.file or settings.sources_file
    found = load_sources(path)  # SourcesError -> exit 2 with file:line in main()
    _print(args, {"file": str(path), "sources": len(found)}, summary_lines(path, found))
    return EXIT_OK


def cmd_status(args: argparse.Namespace, settings: Settings) -> int:
    """`axiswatch status`: last runs, source health, weekly volumes; exit 1 if attention is needed."""
    import dataclasses

    from flows import status
    from warehouse.db import WarehouseError

    try:
        snapshot = status.collect(settings)
    except WarehouseError as exc:
        print(f"axiswatch status: {exc}", file=sys.stderr)
        return EXIT_FAILED
    if args.json:
        print(json.dumps(dataclasses.asdict(snapshot), default=str, ensure_ascii=False))
    elif not args.quiet:
        print(status.render(snapshot))
    return EXIT_FAILED if snapshot.attention else EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", type=Path, help="warehouse file (default: DATA_DIR/axiswatch.duckdb)")
    common.add_argument("--data-dir", type=Path, help="data directory (default ./var)")
    common.add_argument("--quiet", action="store_true", help="print nothing on success")
    common.add_argument("--json", action="store_true", help="print a JSON summary")
    parser = argparse.ArgumentParser(prog="axiswatch", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("ingest", parents=[common], help="poll feeds, fetch and store new articles")
    p.add_argument("--sources", type=Path, help="sources file (default seeds/sources.toml)")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("run", parents=[common], help="one pipeline run now: ingest, score, search index")
    p.add_argument("--sources", type=Path, help="sources file (default seeds/sources.toml)")
    p.add_argument("--trigger", default="manual", choices=("manual", "schedule"), help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("score", parents=[common], help="score articles the model has not scored")
    p.add_argument("--model", help="model version (default: the newest built artifact)")
    p.add_argument("--rescore", action="store_true", help="drop and redo this version's scores")
    p.set_defaults(func=cmd_score)

    p = sub.add_parser("report", parents=[common], help="draw the weekly trend report")
    p.add_argument("--week", help="ISO week, e.g. 2026-W48 (default: the current week)")
    p.add_argument("--weeks", type=int, default=12, help="weeks of history in the charts")
    p.add_argument("--out", type=Path, dest="reports_dir", help="output directory (default DATA_DIR/reports)")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("serve", parents=[common], help="serve the scheduled pipeline and weekly report")
    p.add_argument("--sources", type=Path, help="sources file (default seeds/sources.toml)")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("demo", parents=[common], help="run the pipeline on the offline demo corpus")
    p.add_argument("--port", type=int, default=8731, help="loopback port for the demo server (0: any)")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("bench", help="measure each stage's throughput and memory on this machine")
    p.add_argument("--json", type=Path, metavar="FILE", help="also write the figures as JSON to FILE")
    p.add_argument("--quick", action="store_true", help="a fast subset: 10 pages, one repetition")
    p.add_argument("--pages", type=int, help="use only the first N benchmark pages")
    p.add_argument("--repeats", type=int, help="runs per figure (median; default 3, 1 with --quick)")
    p.add_argument("--data-dir", type=Path, help="data directory; work files go to DATA_DIR/bench")
    p.add_argument("--quiet", action="store_true", help="print nothing")
    p.set_defaults(func=cmd_bench)

    p = sub.add_parser("sql", parents=[common], help="run ad hoc SQL on the warehouse (read-only)")
    p.add_argument("query", nargs="?", help="SQL text (or use -f FILE)")
    p.add_argument("-f", "--file", type=Path, help="read the SQL from a file")
    p.add_argument("--format", choices=("table", "csv", "json"), default="table")
    p.add_argument("--allow-files", type=Path, metavar="DIR", help="let queries read files under DIR only")
    p.set_defaults(func=cmd_sql)

    p = sub.add_parser("sources", parents=[common], help="check a sources file (no network, no warehouse)")
    p.add_argument("action", choices=("check",), help="check: validate and summarise")
    p.add_argument("file", nargs="?", type=Path, help="sources file (default seeds/sources.toml)")
    p.set_defaults(func=cmd_sources)

    p = sub.add_parser("status", parents=[common], help="runs, source health, volumes; exit 1 on problems")
    p.set_defaults(func=cmd_status)

    _register_model_commands(sub, common)
    return parser


def _register_model_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add `model build|eval` and `classify` from the models package."""
    from models import cli as model_cli

    model_cli.register(sub, settings_from_args)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `axiswatch` console script."""
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")  # no weight-loading bars on stdout/stderr
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = settings_from_args(args)
        code: int = args.func(args, settings)
        return code
    except (SettingsError, SourcesError) as exc:
        print(f"axiswatch: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (WarehouseError, RunActive, RunLockError) as exc:  # e.g. locked beyond our patience
        print(f"axiswatch: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("axiswatch: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
