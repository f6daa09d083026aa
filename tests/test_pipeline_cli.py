"""The commands an operator uses: `run` (Prefect pipeline flow), `status`, `report`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flows.cli.commands import main
from flows.tools.loopback import LoopbackServer
from tests.ingest_site import build_site, sources_toml
from tests.stages import run_ingest
from warehouse.db import reader


@pytest.mark.slow
def test_run_then_status_then_report(
    loopback: LoopbackServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings = build_site(loopback, tmp_path)
    monkeypatch.setenv("AXISWATCH_ALLOW_HOSTS", "127.0.0.1")
    monkeypatch.setenv("AXISWATCH_HOST_DELAY_SECONDS", "0")
    monkeypatch.setenv("AXISWATCH_EXTRACT_WORKERS", "1")
    base = ["--data-dir", str(settings.data_dir)]
    assert main(["run", *base, "--sources", str(settings.sources_file), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["outcome"] == "ok" and result["extracted"] == 5 and result["scored"] == 4
    with reader(settings.warehouse_path) as con:
        run = con.execute("SELECT flow, trigger, outcome, discovered, extracted, scored FROM runs")
        assert run.fetchall() == [("pipeline", "manual", "ok", 6, 5, 4)]
        assert con.execute("SELECT count(*) FROM runs WHERE prefect_run_id IS NOT NULL").fetchone() == (1,)
        assert con.execute("SELECT count(*) FROM fts_main_article_search.docs").fetchone() == (5,)

    assert main(["status", *base, "--json"]) == 0  # healthy: nothing needs attention
    status = json.loads(capsys.readouterr().out)
    assert status["attention"] == [] and status["model"]["articles_scored"] == 4
    assert {s["source_id"] for s in status["sources"]} == {"english", "korean"}

    assert main(["report", *base, "--json", "--weeks", "4"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert Path(report["html"]).exists() and Path(report["markdown"]).read_text().startswith(
        "# axiswatch weekly"
    )

    # a feed that keeps failing makes status exit non-zero, naming the source and the error class
    loopback.route("/feeds/500.xml", b"oops", status=500)
    settings.sources_file.write_text(sources_toml({"broken": ("/feeds/500.xml", "en")}, loopback.base_url))
    for _ in range(3):
        run_ingest(settings)
    assert main(["status", *base]) == 1
    out = capsys.readouterr().out
    assert "source broken failed 3 times in a row (http_5xx)" in out


def test_missing_warehouse_gives_clear_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["status", "--db", str(tmp_path / "none.duckdb")]) == 1
    assert "no warehouse at" in capsys.readouterr().err


def test_bad_sources_file_fails_fast_with_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "s.toml"
    bad.write_text('[[sources]]\nid = "x"\n')
    assert main(["ingest", "--data-dir", str(tmp_path / "var"), "--sources", str(bad)]) == 2
    assert f"{bad}:1: missing required key 'name'" in capsys.readouterr().err


def test_locked_prefect_database_is_one_clear_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlite3

    from flows import pipeline
    from flows.orchestration import launch
    from flows.settings import Settings

    def locked(**_: object) -> dict[str, object]:
        try:
            raise sqlite3.OperationalError("database is locked")
        except sqlite3.OperationalError as exc:
            raise RuntimeError("flow run could not be created") from exc

    monkeypatch.setattr(pipeline, "ingest_flow", locked)
    with pytest.raises(SystemExit) as err:
        launch.run_flow(Settings.load(env={}, data_dir=tmp_path), launch.ingest)
    message = str(err.value)
    assert "Prefect's local database" in message and "is locked" in message and "PREFECT_API_URL" in message
