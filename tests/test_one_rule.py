"""One statistics module for report and workbench: the dashboard shows the report's index and
interval for the same group and week, the same minimum n, names and colours, and the week in
progress hollow and 'so far'."""

from __future__ import annotations

import json
import re
from datetime import date

import duckdb
import pytest
from starlette.testclient import TestClient

from flows.report import palette
from flows.report.stats import BAND_MIN, Bootstrap, Estimate, estimate, lean_words
from flows.report.weekly import ReportResult, build_report
from flows.settings import Settings
from flows.web.app import create_app
from flows.web.svgplot import chart
from tests.test_report import NOW, WEEK, fresh, scored_articles, seed_report

POINT = re.compile(
    r'<circle class="point([^"]*)"[^>]*?stroke="([^"]+)"[^>]*?data-series="([^"]+)" data-week="([^"]+)" '
    r'data-n="(\d+)" data-mean="([^"]+)"\s+data-lo="([^"]*)" data-hi="([^"]*)"'
)
EXTRA_KR = [0.5, 0.4, 0.6, 0.3, 0.7, 0.5, 0.4, 0.6, 0.2, 0.5]  # kr_a: enough for intervals
EXTRA_KR_W47 = [0.0, 0.1, -0.1, 0.2, 0.0, 0.1, -0.2, 0.0]


def seed_enough(con: duckdb.DuckDBPyConnection) -> None:
    """The report's seed plus enough kr_a articles in W47 and W48 for intervals."""
    seed_report(con)
    rows = [(f"x48_{i}", "kr_a", WEEK, v) for i, v in enumerate(EXTRA_KR)]
    rows += [(f"x47_{i}", "kr_a", "2026-W47", v) for i, v in enumerate(EXTRA_KR_W47)]
    scored_articles(con, rows)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[ReportResult, Settings]:
    """The seeded warehouse with enough articles in W47 and W48 for intervals, and its report."""
    base = tmp_path_factory.mktemp("onerule")
    con = fresh(base / "axiswatch.duckdb")
    seed_enough(con)
    result = build_report(con, WEEK, out_dir=base / "out", now=NOW)
    con.close()
    settings = Settings.load(env={}, data_dir=base, db_path=base / "axiswatch.duckdb")
    return result, settings


def test_report_and_dashboard_show_the_same_index_and_interval(built: tuple[ReportResult, Settings]) -> None:
    result, settings = built
    numbers = json.loads((result.directory / "report.json").read_text(encoding="utf-8"))
    client = TestClient(create_app(settings), base_url="http://127.0.0.1")
    page = client.get("/?kind=country&weeks=12").text
    shown = {(m[2], m[3]): m for m in POINT.findall(page)}
    compared = 0
    for series, group, name, kind in (
        ("all", "All outlets", "All outlets", ""),
        ("country", "KR", "South Korea", "country"),
    ):
        for week in ("2026-W47", WEEK):
            est = numbers["series"][series][group][week]
            hollow, stroke, _, _, n, mean, lo, hi = shown[(name, week)]
            assert int(n) == est["n"] and float(mean) == pytest.approx(est["mean"], abs=5e-4)
            assert est["low"] is not None and est["n"] >= BAND_MIN  # the compared points have intervals
            assert float(lo) == pytest.approx(est["low"], abs=5e-4) and float(hi) == pytest.approx(
                est["high"], abs=5e-4
            )
            assert "hollow" not in hollow
            assert stroke == (palette.ALL_OUTLETS if not kind else palette.color(kind, group))
            compared += 1
    assert compared == 4
    assert re.search(r'class="tick">W48</text>', page)  # week labels on the axis
    cn = numbers["series"]["country"]["CN"][WEEK]
    assert cn["n"] == 2 and cn["mean"] is None and ("China", WEEK) not in shown  # under 3: no point anywhere
    assert "CN" not in re.findall(r'data-series="([^"]+)"', page)  # names, not codes


def test_few_articles_and_the_week_in_progress_are_hollow_without_interval() -> None:
    few, many = Estimate(5, 0.3), estimate([0.2] * 9 + [0.4], Bootstrap())
    assert few.low is None and many.has_interval and many.excludes_zero
    data = {
        "weeks": [("2026-W47", date(2026, 11, 16)), ("2026-W48", date(2026, 11, 23))],
        "series": {"all outlets": (few, many), "KR": (many, many)},
        "in_progress": "2026-W48",
    }
    drawn = {s.name: s for s in chart(data, "country")["series"]}
    assert set(drawn) == {"All outlets", "South Korea"}
    p47, p48 = drawn["All outlets"].points
    assert p47.hollow and p47.lo is None and p47.y_lo is None  # n=5: no interval
    assert p48.hollow and p48.so_far and not drawn["South Korea"].points[0].hollow
    assert any(label.endswith("(so far)") for label, _ in chart(data, "country")["x_labels"])
    assert lean_words(few).startswith("stands at +0.30 from only 5 articles")
    assert lean_words(many) == "leans toward Washington"
    assert lean_words(estimate([-0.3, 0.3] * 5, Bootstrap())) == "is not clearly on either side"
