"""Failures that say so: the run outcome rule, a source that failed on its last poll, a source
silent for longer than its learned interval, and a run where every feed fails (exit 1)."""

from __future__ import annotations

import json
from collections import Counter
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

import flows.cli.status as status
from flows.cli.commands import main
from flows.ingest.counts import IngestCounts
from flows.settings import Settings
from tests.serve_harness import free_port
from tests.test_views import entry, feed_fetch, insert, source, ts
from warehouse import db

NOW = ts("2026-11-30 03:00")


def test_outcome_rule() -> None:
    assert IngestCounts().outcome() == ("ok", None)  # nothing was due: nothing failed
    assert IngestCounts(feeds_polled=3, not_modified=3).outcome() == ("ok", None)
    assert IngestCounts(feeds_polled=3, feeds_failed=1).outcome()[0] == "partial"
    assert IngestCounts(feeds_polled=3, failed=2).outcome()[0] == "partial"  # pages failed
    every = IngestCounts(feeds_polled=3, feeds_failed=3, failures=Counter({"feed:dns": 2, "feed:timeout": 1}))
    assert every.outcome() == ("failed", "no feed could be polled: all 3 failed (dns ×2, timeout ×1)")
    assert every.as_run_fields()["outcome"] == "failed"


def entries_every(source_id: str, hours: float, count: int, newest: str) -> list[dict[str, object]]:
    """``count`` entries of a source, one every ``hours``, the newest discovered at ``newest``."""
    last = ts(newest)
    rows = []
    for n in range(count):
        at = last - timedelta(hours=hours * n)
        rows.append(entry(source_id, f"{source_id}-{n}", "stored", None) | {"discovered_at": at})
    return rows


def warehouse(tmp_path: Path) -> Settings:
    """A warehouse with four sources: steady but silent, steady and fresh, young, failed once."""
    path = tmp_path / "w.duckdb"
    con = duckdb.connect(str(path))
    db.migrate(con)
    names = ("silent", "fresh", "young", "broken")
    insert(con, "sources", [source(s, "KR", "newspaper", None) for s in names])
    con.execute("UPDATE sources SET consecutive_failures = 1 WHERE source_id = 'broken'")
    insert(con, "feed_fetches", [feed_fetch(1, "broken", "2026-11-30 02:30", "dns")])
    insert(con, "entries", entries_every("silent", 6, 12, "2026-11-29 01:00"))  # 26 h ago; expected 12 h
    insert(con, "entries", entries_every("fresh", 6, 12, "2026-11-30 01:00"))  # 2 h ago
    insert(con, "entries", entries_every("young", 6, 3, "2026-11-25 01:00"))  # too little history
    con.close()
    return Settings.load(env={}, db_path=path, data_dir=tmp_path)


def test_status_flags_a_failed_last_poll_and_silence_learned_from_history(tmp_path: Path) -> None:
    snapshot = status.collect(warehouse(tmp_path), now=NOW)
    problems = [p for p in snapshot.attention if p.startswith("source")]
    assert problems == [
        "source broken failed on its last poll (dns)",
        "source silent silent: no new entry for 26.0 h (newest 2026-11-29 01:00 UTC), "
        "longer than its expected interval of 12.0 h",
    ]
    by_id = {s["source_id"]: s for s in snapshot.sources}
    assert by_id["fresh"]["expected_interval_hours"] == 12.0
    assert by_id["young"]["expected_interval_hours"] is None
    assert "newest_entry_at" in status.render(snapshot, sources=True)
    assert "newest_entry_at" not in status.render(snapshot)  # the summary first, the table on request


def test_expected_interval_has_a_floor_of_two_polls() -> None:
    settings = Settings.load(env={}, poll_interval_minutes=30)
    assert status.expected_interval(60.0, 10, settings) == timedelta(hours=1)
    assert status.expected_interval(60.0, 4, settings) is None


@pytest.mark.slow
def test_a_run_where_every_feed_fails_exits_1_and_status_names_the_cause(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens there: every poll is refused
    sources = tmp_path / "sources.toml"
    sources.write_text(
        "".join(
            f'[[sources]]\nid = "{s}"\nname = "{s}"\nfeed_url = "{dead}/{s}.xml"\n'
            'country = "KR"\nlanguage = "en"\nkind = "newspaper"\n'
            for s in ("a", "b")
        )
    )
    for key, value in {"ALLOW_HOSTS": "127.0.0.1", "RETRIES": "0", "HOST_DELAY_SECONDS": "0"}.items():
        monkeypatch.setenv(f"AXISWATCH_{key}", value)
    base = ["--data-dir", str(tmp_path / "var")]
    assert main(["run", *base, "--sources", str(sources), "--json"]) == 1
    result = json.loads(capsys.readouterr().out)
    assert result["outcome"] == "failed" and result["feeds_failed"] == 2
    assert main(["status", *base]) == 1
    out = capsys.readouterr().out
    cause = "no feed could be polled: all 2 failed (connect ×2)"
    assert f"last pipeline run {result['run_id']} failed: {cause}" in out
    assert "source a failed on its last poll (connect)" in out


def test_a_synthetic_date_demo_source_is_never_judged_silent(tmp_path: Path) -> None:
    from flows.report.facts import DEMO_MARKER

    settings = warehouse(tmp_path)
    con = duckdb.connect(str(settings.warehouse_path))
    con.execute(
        "UPDATE sources SET config_json = ? WHERE source_id = 'silent'", [json.dumps({"notes": DEMO_MARKER})]
    )
    con.close()
    snapshot = status.collect(settings, now=NOW)
    assert [p for p in snapshot.attention if p.startswith("source")] == [
        "source broken failed on its last poll (dns)"
    ]
    text = status.render(snapshot)
    # no run and no model yet: two more things
    assert text.startswith("axiswatch status: 3 things need attention\nlast run:  none yet\n")
    assert (
        "sources:   4 active, 1 failing on their last poll, 0 disabled, 1 with synthetic demo dates" in text
    )
    assert max(len(line) for line in text.splitlines()) <= 120
