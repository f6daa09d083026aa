"""Weekly report: sections, hand-computed stance index, deterministic bootstrap, sparse and empty data."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pytest

from flows.report.calendar import (
    ReportError,
    current_week,
    parse_week,
    resolve_week,
    week_range,
    week_window,
)
from flows.report.render import Document, Link, Section, Table, to_html, to_markdown
from flows.report.stats import Bootstrap, estimate
from flows.report.weekly import ReportResult, build_report
from models.labels import LABELS
from tests.conftest import BACKENDS
from tests.test_views import article, entry, feed_fetch, insert, score, source, ts
from warehouse import db

NOW = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)  # Mon 30 Nov 10:00 KST: the report of 2026-W48 is due
WEEK = "2026-W48"
KR_W48 = [0.6, 0.2, 0.1, 0.5, -0.2]  # kr_a ×4, kr_b ×1
KR_W47 = [0.1, 0.0, -0.1]
CN_W48 = [-0.8, -0.6]  # two articles: below the minimum of three
KR_A_BASELINE = [0.1, 0.0, -0.1, 0.2]  # kr_a in W44–W47
SECTIONS = (
    "## Headline",
    "## This week",
    "## What moved",
    "## Stance index over time",
    "### This week by country",
    "### This week by kind",
    "## Topics and events",
    "## On-axis attention and languages",
    "## Outlets this week",
    "## Article volume and relevance",
    "## Biggest movers against the previous 4 weeks",
    "## Evidence worth quoting",
    "### Toward Washington",
    "### Toward Beijing",
    "### Hedging",
    "## Methodology and caveats",
    "## Appendix: operations and model",
    "### Silent sources",
    "### Feed failures",
    "### Extraction failures",
    "### Funnel",
    "### Model quality",
)
CHARTS = ["attention.png", "stance_country.png", "stance_kind.png", "volume_sources.png", "volume_weekly.png"]


def day_in(week: str, hours: int) -> str:
    """A UTC time ``hours`` after 09:00 KST on the Monday of ``week`` (so inside that week in Seoul)."""
    monday = datetime.combine(parse_week(week), datetime.min.time())
    return (monday + timedelta(hours=hours)).strftime("%Y-%m-%d %H:%M")


def scored_articles(con: duckdb.DuckDBPyConnection, rows: list[tuple[str, str, str, float]]) -> None:
    """Articles (id, source, week, score) each with a relevant score under model m2."""
    insert(con, "articles", [article(a, s, day_in(w, 3 + i)) for i, (a, s, w, _) in enumerate(rows)])
    label = {True: "washington", False: "beijing"}
    insert(con, "article_scores", [score(a, "m2", v, label[v >= 0], 0.8) for a, _, _, v in rows])


def seed_report(con: duckdb.DuckDBPyConnection) -> None:
    """The known rows behind the hand computations of this module."""
    # fmt: off
    insert(con, "sources", [
        source("kr_a", "KR", "newspaper", "conservative"), source("kr_b", "KR", "think_tank", None),
        source("cn_a", "CN", "state_media", "state"), source("quiet", "US", "think_tank", None),
    ])
    card = {"version": "m2", "calibration": {"temperature": 1.7, "ece": 0.05}, "metrics": {"macro_f1": 0.71}}
    insert(con, "model_versions", [
        {"model_version": "m1", "created_at": ts("2026-01-01 00:00"), "card_json": "{}",
         "completed_at": ts("2026-01-01 00:00")},
        {"model_version": "m2", "created_at": ts("2026-06-01 00:00"), "card_json": json.dumps(card),
         "completed_at": ts("2026-06-01 00:00")},
    ])
    rows = [(f"w48_kr_a{i}", "kr_a", WEEK, v) for i, v in enumerate(KR_W48[:4])]
    rows += [("w48_kr_b0", "kr_b", WEEK, KR_W48[4])]
    rows += [(f"w47_kr_a{i}", "kr_a", "2026-W47", v) for i, v in enumerate(KR_W47)]
    rows += [("w46_kr_a0", "kr_a", "2026-W46", KR_A_BASELINE[3])]
    rows += [(f"w48_cn_a{i}", "cn_a", WEEK, v) for i, v in enumerate(CN_W48)]
    rows += [("w45_quiet0", "quiet", "2026-W45", 0.3)]
    scored_articles(con, rows)
    insert(con, "article_scores", [score("w48_kr_a0", "m1", -1.0, "beijing", 1.0)])  # old model: ignored
    evidence = [
        ("w48_kr_a0", (0.8, 0.05, 0.05, 0.1), "Seoul anchors itself to Washington."),
        ("w48_kr_a1", (0.6, 0.1, 0.1, 0.2), "Alliance drills expand."),
        ("w48_cn_a0", (0.05, 0.1, 0.75, 0.1), "Seoul should not follow Washington blindly."),
    ]
    insert(con, "passages", [
        {"article_id": a, "ordinal": 0, "start_char": 0, "end_char": len(t), "text": t}
        for a, _, t in evidence
    ])
    insert(con, "passage_scores", [
        {"article_id": a, "ordinal": 0, "model_version": "m2", "label": LABELS[int(np.argmax(p))],
         "score": p[0] - p[2], "scored_at": ts("2026-11-29 00:00"),
         **{f"p_{name}": v for name, v in zip(LABELS, p, strict=True)}}
        for a, p, _ in evidence
    ])
    con.execute("UPDATE articles SET canonical_url = 'javascript:alert(1)' WHERE article_id = 'w48_kr_a1'")
    found = day_in(WEEK, 1)
    insert(con, "entries", [entry("kr_a", f"g{i}", "stored", f"w48_kr_a{i}", found) for i in range(4)] + [
        entry("kr_b", "lost", "gave_up", None, found)
        | {"last_attempt_at": ts(day_in(WEEK, 2)), "last_error_class": "http_404", "attempts": 3},
    ])
    insert(con, "feed_fetches", [
        feed_fetch(1, "kr_b", found, "timeout") | {"error_message": "read timed out"},
        feed_fetch(2, "kr_a", found, None),
    ])
    # fmt: on


def fresh(path: Path) -> duckdb.DuckDBPyConnection:
    """A new migrated warehouse file."""
    con = duckdb.connect(str(path))
    db.migrate(con)
    return con


@pytest.fixture(scope="module", params=BACKENDS)
def warehouse(request: pytest.FixtureRequest, new_warehouse: Callable[[str], db.Location]) -> db.Location:
    """The seeded warehouse, a file or a lake (closed, so reports open it read-only)."""
    location = new_warehouse(request.param)
    con = db.connect(location)
    db.migrate(con)
    seed_report(con)
    con.close()
    return location


@pytest.fixture(scope="module")
def report(warehouse: db.Location, tmp_path_factory: pytest.TempPathFactory) -> ReportResult:
    """The 2026-W48 report of the seeded warehouse."""
    return build_report(warehouse, WEEK, out_dir=tmp_path_factory.mktemp("out"), now=NOW)


def unescape(cell: str) -> str:
    """A Markdown cell's text with the report's backslash escapes removed."""
    return html.unescape(re.sub(r"\\([\\`*_\[\]|#~!{}+\-=.])", r"\1", cell))


def table_row(markdown: str, section: str, first_cell: str) -> list[str]:
    """The cells of the table row starting with ``first_cell`` under heading ``section``."""
    body = markdown.split(section + "\n", 1)[1].split("\n#", 1)[0]
    for line in body.splitlines():
        cells = [unescape(c.strip()) for c in re.split(r"(?<!\\)\|", line.strip("|"))]
        if cells[0] == first_cell:
            return cells
    raise AssertionError(f"no row {first_cell!r} under {section!r}")


def interval(cell: str) -> tuple[float, float, float]:
    """'+0.24 [+0.02, +0.44]' → (0.24, 0.02, 0.44)."""
    match = re.fullmatch(r"([+-]\d\.\d\d) \[([+-]\d\.\d\d), ([+-]\d\.\d\d)\]", cell)
    assert match, cell
    return float(match.group(1)), float(match.group(2)), float(match.group(3))


def test_report_files_and_every_section(report: ReportResult) -> None:
    assert report.week == WEEK and report.directory.name == WEEK and not report.empty
    assert report.markdown_path.read_text(encoding="utf-8") == report.markdown
    for heading in SECTIONS:
        assert f"\n{heading}\n" in report.markdown, heading
    names = sorted(p.name for p in report.chart_paths)
    assert names == CHARTS
    for path in report.chart_paths:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"]({path.name})" in report.markdown
    page = report.html_path.read_text(encoding="utf-8")
    assert page.count('<img src="data:image/png;base64,') == len(CHARTS)
    assert not re.search(r"<(script|link|iframe)|src=\"http|url\(", page)
    assert 'href="javascript:' not in page and "](javascript:" not in report.markdown


def test_stance_index_matches_hand_computation(report: ReportResult) -> None:
    kr = table_row(report.markdown, "### This week by country", "South Korea")
    assert kr[1] == f"{sum(KR_W48) / 5:+.2f}" == "+0.24" and kr[2] == "5"  # n=5 < 8: no interval printed
    assert kr[3] == "+0.00" and kr[4] == "3" and kr[5] == "+0.24"
    by_country = report.markdown.split("### This week by country\n", 1)[1].split("\n#", 1)[0]
    assert "| China" not in by_country  # n=2: summarised in one line, not a row of dashes
    assert "Fewer than 3 relevant articles in either week, so no index: China." in by_country
    everyone = KR_W48 + CN_W48
    headline = report.markdown.split("## Headline\n", 1)[1].split("\n## ", 1)[0]
    assert f"in {WEEK}, from +0.00 in 2026-W47 to {sum(everyone) / len(everyone):+.2f}" in headline
    assert "neither the move nor a lean is established" in headline and "leans" not in headline


def test_movers_evidence_coverage_and_model(report: ReportResult) -> None:
    md = report.markdown
    mover = table_row(md, "## Biggest movers against the previous 4 weeks", "KR_A")
    assert mover[1] == "+0.35 (4)" and mover[2] == "+0.05 (4)" and mover[3] == "+0.30" and mover[4] == "n < 8"
    washington = md.split("### Toward Washington", 1)[1].split("###", 1)[0]
    assert washington.index("0.72") < washington.index("0.48")  # P(w)·relevance, strongest first
    assert "[Title w48_kr_a0](http://127.0.0.1/w48_kr_a0)" in washington and "2026-11-23" in washington
    assert "Seoul should not follow Washington blindly." in md.split("### Toward Beijing", 1)[1]
    assert "Not enough data: no confident hedge passage" in md
    assert table_row(md, "### Silent sources", "QUIET")[1:] == ["1", "1", "2026-W45"]
    assert table_row(md, "### Feed failures", "KR_B")[1:4] == ["1", "1", "timeout"]
    assert table_row(md, "### Extraction failures", "KR_B")[1:4] == ["http_404", "1", "1"]
    assert table_row(md, "### Funnel", "total")[1:] == ["5", "4", "4", "0", "4", "1", "2", "1"]
    model = {
        row[0]: row[1]
        for row in (
            table_row(md, "### Model quality", k)
            for k in ("Model version", "Temperature", "Calibration error (ECE)", "Macro-F1")
        )
    }
    assert model == {
        "Model version": "m2",
        "Temperature": "1.700",
        "Calibration error (ECE)": "0.050",
        "Macro-F1": "0.710",
    }


def test_report_is_deterministic(warehouse: db.Location, report: ReportResult, tmp_path: Path) -> None:
    again = build_report(warehouse, WEEK, out_dir=tmp_path, now=NOW)
    assert again.markdown == report.markdown
    for a, b in zip(again.chart_paths, report.chart_paths, strict=True):
        assert a.read_bytes() == b.read_bytes()


def test_bootstrap_interval_contains_the_mean_and_is_seeded() -> None:
    boot = Bootstrap()
    assert estimate(KR_W48, boot).low is None  # the rule: no interval from fewer than 8 articles
    est = estimate(KR_W48, boot, band_min=3)
    assert est.mean == pytest.approx(0.24)
    assert est.low is not None and est.high is not None and est.mean is not None
    assert est.low < est.mean < est.high
    assert boot.mean_ci(KR_W48) == boot.mean_ci(KR_W48)
    assert Bootstrap(seed=7).mean_ci(KR_W48) != boot.mean_ci(KR_W48)
    assert estimate(CN_W48, boot).mean is None and estimate(CN_W48, boot).n == 2
    low, high = boot.diff_ci([1.0, 1.1, 0.9], [0.0, 0.1, -0.1])
    assert 0.7 < low < 1.0 < high < 1.3


def test_empty_warehouse_says_so(tmp_path: Path) -> None:
    fresh(tmp_path / "e.duckdb").close()
    result = build_report(tmp_path / "e.duckdb", None, out_dir=tmp_path / "out", now=NOW)
    assert result.empty and result.week == "2026-W48" and result.chart_paths == ()
    assert "Not enough data: the warehouse is empty" in result.markdown
    for heading in SECTIONS:
        assert f"\n{heading}\n" in result.markdown, heading
    assert "Not enough data: no model version is registered" in result.markdown


def test_default_week_is_the_last_complete_one_in_the_time_zone() -> None:
    # Mon 30 Nov 10:00 KST = Mon 01:00 UTC: Seoul is in W49, so W48 is complete; UTC is too.
    assert resolve_week(None, "Asia/Seoul", NOW) == "2026-W48"
    assert resolve_week("current", "Asia/Seoul", NOW) == "2026-W49"
    # Sun 29 Nov 20:00 UTC: still W48 in UTC (W47 is the last complete), already W49 in Seoul
    sunday = datetime(2026, 11, 29, 20, 0, tzinfo=UTC)
    assert resolve_week(None, "UTC", sunday) == "2026-W47"
    assert resolve_week(None, "Asia/Seoul", sunday) == "2026-W48"
    assert resolve_week(" 2026-W47 ", "UTC", sunday) == "2026-W47"
    with pytest.raises(ReportError, match="week 2027-W01 has not begun yet"):  # a future week has no data
        resolve_week(" 2027-W01 ", "UTC", sunday)
    assert week_range("2030-W01") == "Mon 31 Dec 2029 – Sun 06 Jan 2030"
    assert week_range("2026-W48") == "Mon 23 Nov – Sun 29 Nov 2026"
    assert resolve_week(None, "UTC", datetime(2027, 1, 4, 0, 30, tzinfo=UTC)) == "2026-W53"


def test_a_week_without_data_renders_completely_and_says_so(warehouse: db.Location, tmp_path: Path) -> None:
    result = build_report(warehouse, "2026-W49", weeks=4, out_dir=tmp_path, now=NOW)
    md = result.markdown
    headline = md.split("## Headline\n", 1)[1].split("\n## ", 1)[0]
    assert "No data for 2026-W49: no article dated in this week was stored" in headline
    for heading in SECTIONS:
        assert f"\n{heading}\n" in md, heading
    assert "Not enough data: no source had an article in 2026-W49; no per-source chart." in md
    charts = {p.name for p in result.chart_paths}  # the window's earlier weeks have data to draw
    assert "volume_sources.png" not in charts and "volume_weekly.png" in charts
    html = result.html_path.read_text()
    assert "No data for 2026-W49" in html and "no per-source chart" in html


def test_sparse_week_gets_not_enough_data(warehouse: db.Location, tmp_path: Path) -> None:
    result = build_report(warehouse, "2026-W45", weeks=4, out_dir=tmp_path, now=NOW)
    md = result.markdown
    assert "Not enough data: 1 relevant scored articles in 2026-W45 (the index needs at least 3)" in md
    assert "Not enough data: no week from 2026-W42 to 2026-W45 had 3 or more relevant scored articles" in md
    assert "Not enough data: no source had at least 3 relevant scored articles" in md
    names = sorted(p.name for p in result.chart_paths)
    assert names == ["volume_sources.png", "volume_weekly.png"]


def test_timezone_buckets_weeks(tmp_path: Path) -> None:
    con = fresh(tmp_path / "tz.duckdb")
    insert(con, "sources", [source("kr_a", "KR", "newspaper", None)])
    insert(con, "articles", [article("edge", "kr_a", "2026-11-22 16:00")])  # Mon 23 Nov 01:00 KST
    seoul = build_report(con, "2026-W48", weeks=2, out_dir=tmp_path / "seoul", now=NOW)
    utc = build_report(con, "2026-W48", weeks=2, out_dir=tmp_path / "utc", timezone="UTC", now=NOW)
    assert "Articles dated 2026-W48: 1;" in seoul.markdown
    assert "Articles dated 2026-W48: 0;" in utc.markdown
    assert "time zone UTC" in utc.markdown
    assert con.execute("SELECT getvariable('axiswatch_tz')").fetchone() == (
        None,
    )  # caller's session restored
    edge = datetime(2026, 11, 22, 16, 0, tzinfo=UTC)
    assert current_week("Asia/Seoul", edge) == "2026-W48" and current_week("UTC", edge) == "2026-W47"
    con.close()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"week": "2026-48"}, "not an ISO week"),
        ({"week": "2026-W54"}, "does not exist"),
        ({"week": WEEK, "weeks": 0}, "between 1 and"),
        ({"week": WEEK, "timezone": "Mars/Olympus"}, "unknown time zone"),
    ],
)
def test_bad_arguments_are_specific_errors(
    warehouse: db.Location, tmp_path: Path, kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(ReportError, match=message):
        build_report(warehouse, out_dir=tmp_path, now=NOW, **kwargs)


def test_week_window_crosses_the_iso_year() -> None:
    assert week_window("2027-W01", 3) == ("2026-W52", "2026-W53", "2027-W01")


def test_report_uses_shipped_views_even_when_stored_ones_are_stale(
    report: ReportResult, tmp_path: Path
) -> None:
    con = fresh(tmp_path / "old.duckdb")
    seed_report(con)
    con.execute("CREATE OR REPLACE VIEW stg_articles AS SELECT 1 AS outdated")
    con.execute("DROP VIEW mart_coverage_funnel")
    con.close()
    again = build_report(tmp_path / "old.duckdb", WEEK, out_dir=tmp_path / "out", now=NOW)  # read-only
    assert again.markdown == report.markdown
    con = duckdb.connect(str(tmp_path / "old.duckdb"))
    build_report(con, WEEK, out_dir=tmp_path / "out2", now=NOW)
    assert con.execute("SELECT count(*) FROM duckdb_views() WHERE temporary AND NOT internal").fetchone() == (
        0,
    )
    assert con.execute("SELECT * FROM stg_articles").fetchall() == [(1,)]  # the caller's session is untouched
    con.close()


def test_rendering_escapes_feed_text_and_refuses_non_http_links() -> None:
    doc = Document(
        "t",
        [],
        [Section("s", [Table(("a", "b"), (("x|y\nz", Link("<b>t</b>", "javascript:alert(1)")),))])],
    )
    md, page = to_markdown(doc), to_html(doc)
    assert "| x\\|y z | &lt;b&gt;t&lt;/b&gt; |" in md and "](javascript" not in md
    assert "&lt;b&gt;t&lt;/b&gt;" in page and "<a " not in page
    link = to_markdown(
        Document("t", [], [Section("s", [Table(("a",), ((Link("[x]", "http://h/a b(c)"),),))])])
    )
    assert "[\\[x\\]](http://h/a%20b%28c%29)" in link


def test_large_sample_bootstrap_is_chunked_and_exact_on_constants() -> None:
    low, high = Bootstrap(resamples=50).mean_ci([0.25] * 50_000)
    assert low == high == 0.25
