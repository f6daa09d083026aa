"""End to end: a scheduled pipeline run on a demo-like corpus whose last two days (served as feeds on
loopback, scored by the real model) shift two Korean newspapers toward Beijing raises exactly one
alert; the local SMTP server and webhook receiver each get it once; the workbench shows it with its
evidence; the weekly report names it."""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from flows.alerts import run as alert_run
from flows.cli import main
from flows.score.stage import read_card, resolve_version
from flows.settings import SEEDS_DIR, Settings
from flows.tools.demo_site import DemoFeed, render_feed, render_item
from flows.tools.loopback import LoopbackServer
from tests.alert_site import OUTLETS, SHIFTED, Inbox, at_noon, complete_day, receivers, seed_warehouse
from warehouse.db import reader

PER_DAY = 9


@dataclass(frozen=True)
class Run:
    """What the pipeline run left: settings, exit code, receivers' inbox, stored alerts."""

    settings: Settings
    code: int
    inbox: Inbox
    alerts: list[dict[str, Any]]
    titles: tuple[str, ...]
    events: list[Any]
    out: str


def beijing_passages() -> list[dict[str, Any]]:
    """English dev-set passages labelled beijing in a Beijing-side voice, in file order."""
    lines = (SEEDS_DIR / "stance-dev" / "passages.jsonl").read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in lines]
    return [r for r in rows if r["label"] == "beijing" and r["lang"] == "en" and r["voice"] == "beijing"]


def serve_feeds(server: LoopbackServer, now: datetime) -> tuple[str, tuple[str, ...]]:
    """Every outlet's feed; the shifted ones carry PER_DAY Beijing-side passages on each of the last two
    complete days (feed text only: the linked pages are gone). The sources.toml text and the titles."""
    passages, titles, toml = iter(beijing_passages()), [], []
    for sid, (country, lang, kind, _, _) in OUTLETS.items():
        feed = DemoFeed(sid, sid.replace("-", " ").title(), country, lang, kind, "independent")
        for back in (1, 0) if sid in SHIFTED else ():
            day = complete_day(now) - timedelta(days=back)
            for i in range(PER_DAY):
                row = next(passages)
                title = f"{sid} {day} {i}: {row['text'][:50]}"
                link = server.url(f"/gone/{sid}-{back}-{i}.html")
                feed.items.append(
                    render_item(
                        f"{sid}-{back}-{i}", link, title, at_noon(day, 8 + i), f"<p>{row['text']}</p>"
                    )
                )
                titles.append(title)
        server.route(
            f"/feeds/{sid}.xml", render_feed(feed, server.base_url), content_type="application/rss+xml"
        )
        toml.append(
            f'[[sources]]\nid = "{sid}"\nname = "{feed.name}"\n'
            f'feed_url = "{server.url(f"/feeds/{sid}.xml")}"\n'
            f'country = "{country}"\nlanguage = "{lang}"\nkind = "{kind}"\n'
        )
    return "\n".join(toml), tuple(titles)


@pytest.fixture(scope="module")
def pipeline_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    """Seed 33 days, serve the last two as feeds, run `axiswatch run --trigger schedule` once."""
    tmp = tmp_path_factory.mktemp("alerts-e2e")
    now = datetime.now(UTC)
    version = resolve_version(Settings.load(env={}, data_dir=tmp))
    with LoopbackServer() as server, receivers() as (inbox, mail, hook), pytest.MonkeyPatch.context() as mp:
        toml, titles = serve_feeds(server, now)
        (tmp / "sources.toml").write_text(toml, encoding="utf-8")
        env = {
            "ALLOW_HOSTS": "127.0.0.1",
            "HOST_DELAY_SECONDS": "0",
            "EXTRACT_WORKERS": "1",
            "RETRIES": "0",
            "POLL_INTERVAL_MINUTES": "0",
            "ALERT_NOTIFY_URLS": f"{mail} {hook}",
        }
        for key, value in env.items():
            mp.setenv(f"AXISWATCH_{key}", value)
        events: list[Any] = []
        emit = alert_run.emit_events
        mp.setattr(alert_run, "emit_events", lambda rows: events.append(len(rows)) or emit(rows))
        settings = Settings.load(data_dir=tmp / "var", sources_file=tmp / "sources.toml")
        seed_warehouse(
            settings, version, read_card(Settings.load(env={}, data_dir=tmp)), now, shift=False, held_back=2
        )
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            args = ["run", "--data-dir", str(settings.data_dir), "--sources", str(settings.sources_file)]
            code = main([*args, "--trigger", "schedule"])
        with reader(settings.location) as con:
            cursor = con.execute("SELECT * FROM alerts")
            columns = [d[0] for d in cursor.description or []]
            alerts = [dict(zip(columns, r, strict=True)) for r in cursor.fetchall()]
        yield Run(settings, code, inbox, alerts, titles, events, printed.getvalue())


@pytest.mark.slow
def test_the_run_raises_exactly_one_alert_delivered_once_to_each_destination(pipeline_run: Run) -> None:
    run = pipeline_run
    assert run.code == 0 and len(run.alerts) == 1
    alert = run.alerts[0]
    assert alert["direction"] == "beijing" and alert["after_n"] >= 10 and alert["delta"] < -0.2
    assert alert["run_id"] is not None and run.events == [1]  # one Prefect event, from inside the flow run
    assert len(run.inbox.mails) == 1 and len(run.inbox.hooks) == 1
    assert "stance shifts: 1 new alerts" in run.out and "scheduled pipeline run" in run.out
    assert (
        alert["alert_id"].encode() in run.inbox.mails[0]
        and alert["alert_id"] in run.inbox.hooks[0]["message"]
    )
    with reader(run.settings.location) as con:
        delivered = con.execute("SELECT count(*) FROM alert_deliveries WHERE ok").fetchone()
    assert delivered == (2,)


@pytest.mark.slow
def test_the_workbench_shows_the_alert_with_its_evidence(pipeline_run: Run) -> None:
    from starlette.testclient import TestClient

    from flows.web.app import create_app

    alert = pipeline_run.alerts[0]
    client = TestClient(create_app(pipeline_run.settings), base_url="http://127.0.0.1")
    assert alert["series_name"] in client.get("/alerts").text
    page = client.get(f"/alerts/{alert['alert_id']}").text
    evidence = json.loads(alert["evidence_json"])
    assert evidence["articles"] and evidence["articles"][0]["title"] in pipeline_run.titles
    assert f"/article/{evidence['articles'][0]['article_id']}" in page and "Voices behind it" in page


@pytest.mark.slow
def test_the_weekly_report_names_the_alert(pipeline_run: Run, tmp_path: Path) -> None:
    from flows.report.calendar import week_label
    from flows.report.weekly import build_report

    alert = pipeline_run.alerts[0]
    report = build_report(pipeline_run.settings.location, week_label(alert["start_day"]), 4, out_dir=tmp_path)
    block = report.markdown.split("## What moved")[1].split("\n## ")[0]
    assert alert["series_name"] in block and alert["alert_id"] in block
