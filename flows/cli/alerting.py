"""`axiswatch alerts list|show|ack|eval`: argument parsing and printing only."""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import flows.cli.jsonout as jsonout
from flows.alerts import listing as reads
from flows.settings import Settings
from warehouse.alerts_ops import AlertError, AlertEvent, event_row
from warehouse.db import now_utc, reader

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
ACTIONS = {"ack": "ack", "dismiss": "dismiss", "reopen": "reopen"}


def _fmt(value: float | None) -> str:
    """A signed score with two decimals, or an en dash."""
    return "–" if value is None else f"{value:+.2f}"


def _level(row: dict[str, Any], side: str) -> str:
    """'+0.12 [+0.05, +0.19] n=40' for the before or after side of an alert."""
    mean, low, high = (_fmt(row[f"{side}_{part}"]) for part in ("mean", "low", "high"))
    return f"{mean} [{low}, {high}] n={row[f'{side}_n']}"


def line(row: dict[str, Any]) -> str:
    """One alert on one line."""
    return (
        f"{row['alert_id']}  {row['state']:<12} {row['start_day']}  {row['series_name']}: "
        f"{_fmt(row['before_mean'])} → {_fmt(row['after_mean'])} (Δ {_fmt(row['delta'])}, "
        f"n={row['after_n']}, |t|={row['strength']:.1f}, q={row['q_value']:.2g})"
    )


def _article(a: dict[str, Any]) -> str:
    """One evidence article with its passage."""
    title = a.get("title") or a["canonical_url"]
    head = f"    {a['day']} {a['source_name']}: {title} (score {_fmt(a['score'])})"
    return head + (f"\n      “{a['text'][:200]}”" if a.get("text") else "")


def detail(row: dict[str, Any]) -> list[str]:
    """An alert with its evidence, for `alerts show`."""
    ev = row["evidence"]
    out = [
        line(row),
        f"  {ev.get('summary', '')}",
        f"  before: {_level(row, 'before')}",
        f"  after:  {_level(row, 'after')} (from {row['start_day']} through {row['through_day']})",
        f"  change: {_fmt(row['delta'])} [{_fmt(row['delta_low'])}, {_fmt(row['delta_high'])}]; "
        f"p={row['p_value']:.2g} (scan-corrected), q={row['q_value']:.2g} over {row['series_tested']} series "
        f"(FDR {row['fdr']:g})",
    ]
    out += [f"  also moved: {r['name']} (Δ {_fmt(r['delta'])}, n={r['after_n']})" for r in row["related"]]
    out += ["  articles that moved it most:"] + [_article(a) for a in ev.get("articles", [])]
    out += [
        f"  topic: {t['name']}: {t['articles']} articles, {t['share']:.0%} (was {t['share_before']:.0%})"
        for t in ev.get("topics", [])
    ]
    out += [
        f"  voice: {v['name']}: {v['passages']} passages, {v['share']:.0%} (was {v['share_before']:.0%})"
        for v in ev.get("voices", [])[:3]
    ]
    out += [
        f"  delivery {d['attempted_at']:%Y-%m-%d %H:%M} {d['shown_as']}: {'ok' if d['ok'] else d['error']}"
        for d in row.get("deliveries", [])
    ]
    return out


def run_line(alerts: dict[str, Any]) -> str:
    """The line `axiswatch run` prints about the shifts its run found."""
    if "alerts_new" not in alerts:
        return "  stance shifts: detection failed (see the log); the run itself is stored"
    failed = alerts["deliveries_failed"]
    tail = f", {failed} notifications failed (retried next run)" if failed else ""
    return (
        f"  stance shifts: {alerts['alerts_new']} new alerts ({alerts['series_tested']} series tested{tail})"
    )


def cmd_list(args: argparse.Namespace, settings: Settings) -> int:
    """`alerts list`: open alerts (with --all: every alert), newest first."""
    with reader(settings.location, patience=settings.lock_patience_seconds) as con:
        found = reads.alerts(con, include_closed=args.all)
    if args.json:
        print(jsonout.dumps({"alerts": found}))
    elif not args.quiet:
        print("\n".join(line(r) for r in found) if found else "no alerts" + ("" if args.all else " open"))
    return EXIT_OK


def cmd_show(args: argparse.Namespace, settings: Settings) -> int:
    """`alerts show ID`: one alert with its evidence and deliveries."""
    with reader(settings.location, patience=settings.lock_patience_seconds) as con:
        found = reads.alert(con, args.alert_id)
    if found is None:
        print(f"axiswatch alerts: no alert {args.alert_id!r}", file=sys.stderr)
        return EXIT_FAILED
    print(jsonout.dumps(found) if args.json else "\n".join(detail(found)))
    return EXIT_OK


def cmd_ack(args: argparse.Namespace, settings: Settings) -> int:
    """`alerts ack ID [--dismiss|--reopen]`: record an analyst's action as a new row (never overwritten)."""
    action = "dismiss" if args.dismiss else "reopen" if args.reopen else "ack"
    try:
        row = event_row(args.alert_id, action, args.analyst or getpass.getuser(), now_utc(), args.note or "")
    except AlertError as exc:
        print(f"axiswatch alerts: {exc}", file=sys.stderr)
        return EXIT_USAGE
    result = settings.sink().apply([AlertEvent(row)])
    if result is not None and isinstance(result[0], Exception):
        print(f"axiswatch alerts: {result[0]}", file=sys.stderr)
        return EXIT_FAILED
    payload = {
        "alert_id": args.alert_id,
        "action": action,
        "analyst": row["analyst"],
        "spooled": result is None,
    }
    if args.json:
        print(jsonout.dumps(payload))
    elif not args.quiet:
        print(
            f"alert {args.alert_id}: {action} by {row['analyst']}" + (" (spooled)" if result is None else "")
        )
    return EXIT_OK


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    """`alerts eval`: injected shifts in the demo corpus's series; detection rate, delay, false alarms."""
    from flows.alerts.injection import evaluate, render

    figures = evaluate(settings, trials=args.trials, per_day=args.per_day, shift=args.shift, quiet=args.quiet)
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(jsonout.dumps(figures, indent=2) + "\n", encoding="utf-8")
    if not args.quiet:
        print(render(figures))
    return EXIT_OK


def register(sub: Any, common: argparse.ArgumentParser, with_json: argparse.ArgumentParser) -> None:
    """Add `alerts list|show|ack|eval` to the main parser's subcommands."""
    group = sub.add_parser("alerts", help="stance shifts: list, show, acknowledge, evaluate the detector")
    actions = group.add_subparsers(dest="alerts_command", metavar="{list,show,ack,eval}", required=True)
    add: Callable[..., argparse.ArgumentParser] = actions.add_parser
    p = add("list", parents=[with_json], help="open alerts, newest first")
    p.add_argument("--all", action="store_true", help="also acknowledged and dismissed alerts")
    p.set_defaults(func=cmd_list)
    p = add("show", parents=[with_json], help="one alert with its evidence and deliveries")
    p.add_argument("alert_id", help="the alert's id (from `alerts list`)")
    p.set_defaults(func=cmd_show)
    p = add("ack", parents=[with_json], help="acknowledge (or --dismiss, --reopen) an alert")
    p.add_argument("alert_id", help="the alert's id")
    way = p.add_mutually_exclusive_group()
    way.add_argument("--dismiss", action="store_true", help="dismiss it instead (a false alarm)")
    way.add_argument("--reopen", action="store_true", help="make it open again")
    p.add_argument("--analyst", help="your name (default: the login name)")
    p.add_argument("--note", help="a note kept with the action")
    p.set_defaults(func=cmd_ack)
    p = add("eval", parents=[common], help="measure detection on injected shifts in the demo corpus")
    p.add_argument("--json", type=Path, metavar="FILE", help="also write the figures as JSON to FILE")
    p.add_argument("--trials", type=int, default=200, help="shifted trials (default 200)")
    p.add_argument("--per-day", type=int, default=10, help="relevant articles a day in a replayed series")
    p.add_argument("--shift", type=float, default=0.3, help="injected shift of the stance index")
    p.set_defaults(func=cmd_eval)
