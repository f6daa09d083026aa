"""Alerts on a demo-like warehouse: one alert per shift with evidence, never twice, the CLI,
notifications to a local SMTP server and webhook receiver, a dead destination retried, bad settings."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from flows.alerts import run as alert_run
from flows.alerts.run import run_alerts
from flows.cli import main
from flows.settings import Settings, SettingsError
from tests.alert_site import free_port, receivers, seed_warehouse
from warehouse.alerts_ops import AlertEvent, RecordAlerts
from warehouse.db import reader

NOW = datetime.now(UTC)
CARD = {"abstention": {"threshold": 0.5}}


@dataclass(frozen=True)
class Seeded:
    """A seeded warehouse file to copy from."""

    path: Path


@pytest.fixture(scope="session")
def shifted(tmp_path_factory: pytest.TempPathFactory) -> Seeded:
    """The demo-like corpus with a shift toward Beijing in two Korean newspapers (no alerts run yet)."""
    settings = Settings.load(env={}, data_dir=tmp_path_factory.mktemp("shifted"))
    seed_warehouse(settings, "stance-test", CARD, NOW, shift=True)
    return Seeded(settings.warehouse_path)


def own(seeded: Seeded, tmp: Path, **overrides: Any) -> Settings:
    """Settings on a private copy of a seeded warehouse."""
    data = tmp / "var"
    data.mkdir(parents=True, exist_ok=True)
    shutil.copy(seeded.path, data / "axiswatch.duckdb")
    return Settings.load(env={}, data_dir=data, **overrides)


def stored(settings: Settings, sql: str) -> list[tuple[Any, ...]]:
    with reader(settings.location) as con:
        return con.execute(sql).fetchall()


def test_a_shift_raises_one_alert_with_its_evidence_and_never_twice(shifted: Seeded, tmp_path: Path) -> None:
    settings = own(shifted, tmp_path)
    first = run_alerts(settings, now=NOW)
    assert len(first.new) == 1 and first.tested >= 10
    alert = first.new[0]
    assert alert["direction"] == "beijing" and alert["delta"] < -0.3 and alert["after_n"] >= 10
    assert alert["before_low"] < alert["before_mean"] < alert["before_high"]
    assert alert["delta_high"] < 0 and alert["q_value"] <= settings.alert_fdr
    related = {(r["kind"], r["key"]) for r in json.loads(alert["related_json"])}
    assert ("source", "kr-daily") in related | {(alert["series_kind"], alert["series_key"])}
    evidence = json.loads(alert["evidence_json"])
    assert evidence["articles"] and all(a["score"] < 0 for a in evidence["articles"])
    assert (
        evidence["articles"][0]["source_name"] in ("Kr Daily", "Kr Herald")
        and evidence["articles"][0]["text"]
    )
    assert evidence["topics"][0]["topic_id"] == "thaad" and evidence["topics"][0]["rise"] > 3
    assert evidence["voices"][0]["voice"] == "beijing"
    assert "Beijing-side voices" in evidence["summary"] and "THAAD" in evidence["summary"]
    again = run_alerts(settings, now=NOW)
    assert again.new == [] and again.found >= 1
    assert stored(settings, "SELECT count(*) FROM alerts") == [(1,)]


def test_an_unshifted_corpus_raises_nothing(tmp_path: Path) -> None:
    settings = Settings.load(env={}, data_dir=tmp_path)
    seed_warehouse(settings, "stance-test", CARD, NOW, shift=False)
    result = run_alerts(settings, now=NOW)
    assert result.tested >= 10 and result.new == []


def test_cli_lists_shows_and_acknowledges_without_overwriting(
    shifted: Seeded, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = own(shifted, tmp_path)
    run_alerts(settings, now=NOW)
    base = ["--data-dir", str(settings.data_dir)]
    assert main(["alerts", "list", *base, "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)["alerts"]
    assert len(listed) == 1 and listed[0]["state"] == "open"
    alert_id = listed[0]["alert_id"]
    assert main(["alerts", "show", alert_id, *base]) == 0
    shown = capsys.readouterr().out
    assert "articles that moved it most" in shown and "THAAD" in shown and "before:" in shown
    assert main(["alerts", "ack", alert_id, "--analyst", "kim", "--note", "seen", *base]) == 0
    assert main(["alerts", "list", *base]) == 0
    assert "no alerts open" in capsys.readouterr().out.splitlines()[-1]
    assert main(["alerts", "list", "--all", *base, "--json"]) == 0
    acked = json.loads(capsys.readouterr().out)["alerts"][0]
    assert acked["state"] == "acknowledged" and acked["state_by"] == "kim"
    assert {k: acked[k] for k in ("delta", "start_day", "after_n")} == {
        k: listed[0][k] for k in ("delta", "start_day", "after_n")
    }
    assert main(["alerts", "ack", "nope", *base]) == 1
    assert "no alert 'nope'" in capsys.readouterr().err


def test_each_destination_gets_an_alert_once_and_a_dead_one_is_retried(
    shifted: Seeded, tmp_path: Path
) -> None:
    dead = f"json://127.0.0.1:{free_port()}/down"
    with receivers() as (inbox, mail, hook):
        settings = own(shifted, tmp_path, alert_notify_urls=f"{mail},{hook},{dead}")
        first = run_alerts(settings, now=NOW)
        second = run_alerts(settings, now=NOW)
    assert len(inbox.mails) == 1 and len(inbox.hooks) == 1
    assert b"moved" in inbox.mails[0] and "toward Beijing" in inbox.hooks[0]["message"]
    assert sorted(d["ok"] for d in first.deliveries) == [False, True, True]
    assert [d["ok"] for d in second.deliveries] == [False]  # only the dead one is tried again
    assert "127.0.0.1" in second.deliveries[0]["shown_as"] and second.deliveries[0]["error"]
    rows = stored(settings, "SELECT ok, count(*) FROM alert_deliveries GROUP BY ok ORDER BY ok")
    assert rows == [(False, 2), (True, 2)]


def test_a_bad_notifier_url_fails_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.load(env={"AXISWATCH_ALERT_NOTIFY_URLS": "json://127.0.0.1/x, nosuch://host/x"})
    message = str(caught.value)
    assert "\n" not in message and "AXISWATCH_ALERT_NOTIFY_URLS" in message and "'nosuch'" in message
    assert "host/x" not in message  # the URL may hold a password: only its scheme is named
    monkey = {"AXISWATCH_ALERT_NOTIFY_URLS": "nosuch://x"}
    with pytest.MonkeyPatch.context() as mp:
        for k, v in monkey.items():
            mp.setenv(k, v)
        assert main(["alerts", "list", "--data-dir", str(tmp_path)]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_one_prefect_event_per_new_alert(monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[dict[str, Any]] = []
    monkeypatch.setattr("prefect.events.emit_event", lambda **kw: sent.append(kw) or object())
    row = {
        "alert_id": "a1",
        "series_name": "outlets of country KR",
        "series_kind": "country",
        "series_key": "KR",
        "direction": "beijing",
        "delta": -0.4,
        "q_value": 0.001,
        "after_n": 20,
        "start_day": "2026-12-01",
    }
    assert alert_run.emit_events([row]) == 1
    assert sent[0]["event"] == "axiswatch.alert.raised"
    assert sent[0]["resource"]["prefect.resource.id"] == "axiswatch.alert.a1"
    assert sent[0]["payload"]["series_key"] == "KR"


def test_the_workbench_shows_alerts_with_evidence_and_takes_an_ack(shifted: Seeded, tmp_path: Path) -> None:
    from starlette.testclient import TestClient

    from flows.web.app import create_app

    settings = own(shifted, tmp_path)
    alert = run_alerts(settings, now=NOW).new[0]
    client = TestClient(create_app(settings), base_url="http://127.0.0.1")
    listing = client.get("/alerts").text
    assert (
        alert["series_name"] in listing and f"/alerts/{alert['alert_id']}" in listing and "THAAD" in listing
    )
    page = client.get(f"/alerts/{alert['alert_id']}").text
    first = json.loads(alert["evidence_json"])["articles"][0]
    assert f"/article/{first['article_id']}" in page and "Beijing warned Seoul" in page
    assert "Beijing-side voices" in page and 'id="alert-topics"' in page and "open" in page
    csrf = page.split('name="csrf" value="')[1].split('"')[0]
    done = client.post(
        f"/alerts/{alert['alert_id']}/ack",
        data={"csrf": csrf, "analyst": "lee", "action": "dismiss"},
        follow_redirects=True,
    )
    assert done.status_code == 200 and 'id="alert-state">dismissed' in done.text
    assert (
        client.post(f"/alerts/{alert['alert_id']}/ack", data={"csrf": "x", "action": "ack"}).status_code
        == 403
    )
    assert client.get("/alerts/nope").status_code == 404
    assert 'id="no-alerts"' in client.get("/alerts").text


def test_the_weekly_report_names_what_moved(shifted: Seeded, tmp_path: Path) -> None:
    from flows.report.calendar import week_label
    from flows.report.weekly import build_report

    settings = own(shifted, tmp_path)
    alert = run_alerts(settings, now=NOW).new[0]
    week = week_label(alert["start_day"])
    report = build_report(settings.location, week, 4, out_dir=tmp_path / "reports", now=NOW)
    block = report.markdown.split("## What moved")[1].split("\n## ")[0]
    assert alert["series_name"] in block and alert["alert_id"] in block and "toward Beijing" in block
    assert "THAAD" in block and "Strongest article" in block
    quiet = build_report(settings.location, "2026-W01", 4, out_dir=tmp_path / "reports", now=NOW)
    assert "No stance shift beyond sampling noise started in 2026-W01" in quiet.markdown


def test_alert_writes_survive_the_spool_and_replay_once(shifted: Seeded, tmp_path: Path) -> None:
    from warehouse import spool
    from warehouse.ops import OPS

    settings = own(shifted, tmp_path)
    found = alert_run.find_new(settings, None, NOW)
    ops = [RecordAlerts(found.new)]
    back = spool.loads(spool.dumps(ops, NOW), OPS)
    assert back == ops  # dates, datetimes and JSON text come back exactly
    sink = settings.sink()
    sink.apply(back)
    sink.apply(back)
    assert stored(settings, "SELECT count(*) FROM alerts") == [(1,)]


def test_alerts_on_a_ducklake_warehouse(new_warehouse: Any, tmp_path: Path) -> None:
    lake = new_warehouse("ducklake")
    settings = Settings.load(
        env={},
        data_dir=tmp_path,
        warehouse=f"ducklake:postgres:{lake.catalog}",
        warehouse_data_path=lake.data_path,
    )
    seed_warehouse(settings, "stance-test", CARD, NOW, shift=True)
    first = run_alerts(settings, now=NOW)
    assert len(first.new) == 1 and run_alerts(settings, now=NOW).new == []
    from warehouse.alerts_ops import event_row

    row = event_row(first.new[0]["alert_id"], "ack", "kim", NOW)
    settings.sink().apply([AlertEvent(row), AlertEvent(row)])  # a replay adds nothing
    with reader(settings.location) as con:
        assert con.execute("SELECT count(*), any_value(state) FROM stg_alerts").fetchone() == (
            1,
            "acknowledged",
        )
        assert con.execute("SELECT count(*) FROM alert_events").fetchone() == (1,)
