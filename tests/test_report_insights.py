"""The analyst's report: summary sentences with numbers, topics, attention by language, the league
table, evidence rules, hollow points, one colour per group, CJK glyphs, caveats and the appendix."""

from __future__ import annotations

import html
import json
import math
import re
import warnings
from datetime import date
from pathlib import Path

import pytest
from matplotlib.figure import Figure

from flows.report import palette
from flows.report.caveats import _nonzero_funnel, readable
from flows.report.data import FunnelRow, ReportData, Totals
from flows.report.evidence import card_threshold, quotable, split_title, strip_title
from flows.report.facts import DEMO_MARKER, Candidate
from flows.report.stats import Estimate
from flows.report.trend_charts import Line, _values, index_chart, style
from flows.report.weekly import ReportResult, build_report
from tests.test_report import NOW, WEEK, day_in, fresh, seed_report, table_row
from tests.test_views import article, insert, passage_score, score


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> ReportResult:
    """The seeded report plus: languages, an off-axis article, topic tags, a demo source, a title stutter."""
    base = tmp_path_factory.mktemp("insights")
    con = fresh(base / "w.duckdb")
    seed_report(con)
    con.execute("UPDATE articles SET language = CASE WHEN source_id = 'cn_a' THEN 'zh' ELSE 'ko' END")
    insert(con, "articles", [article("w48_pop", "kr_a", day_in(WEEK, 9)) | {"language": "ko"}])
    insert(con, "article_scores", [score("w48_pop", "m2", None, "irrelevant", 0.0)])
    insert(
        con,
        "passages",
        [
            {
                "article_id": "w48_pop",
                "ordinal": 0,
                "start_char": 0,
                "end_char": 9,
                "text": "A concert in Seoul sold out and fans sang along all night.",
            }
        ],
    )
    insert(con, "passage_scores", [passage_score("w48_pop", 0, "m2", "washington")])
    merged = "UPDATE passages SET text = 'Title w48_cn_a0' || chr(10) || text WHERE article_id = 'w48_cn_a0'"
    con.execute(merged)  # the page's <h1> merged into the first passage
    insert(
        con,
        "topics",
        [{"topic_id": "thaad", "name": "THAAD & missile defence", "dictionary_version": 1, "position": 0}],
    )
    insert(
        con,
        "article_topics",
        [
            {"article_id": f"w48_kr_a{i}", "topic_id": "thaad", "hits": 1, "dictionary_version": 1}
            for i in range(4)
        ],
    )
    con.execute(
        "UPDATE sources SET config_json = ? WHERE source_id = 'kr_a'", [json.dumps({"notes": DEMO_MARKER})]
    )
    result = build_report(con, WEEK, out_dir=base / "out", now=NOW)
    con.close()
    return result


def unescape(cell: str) -> str:
    """A markdown table cell as its reader sees it (backslash escapes and HTML entities undone)."""
    return html.unescape(re.sub(r"\\(.)", r"\1", cell))


def summary(md: str) -> dict[str, str]:
    """The 'This week' table as finding → number (markdown escapes removed)."""
    body = md.split("## This week\n", 1)[1].split("\n## ", 1)[0]
    rows = [
        [c.strip() for c in line.strip().strip("|").split("|")]
        for line in body.splitlines()
        if line.startswith("|")
    ]
    return {unescape(r[0]): unescape(r[1]) for r in rows[2:]}


def test_summary_sentences_each_carry_their_number(report: ReportResult) -> None:
    rows = summary(report.markdown)
    no_interval = "the change since 2026-W47 has no interval (fewer than 8 articles on a side)."
    everyone = (
        f"Across all outlets the index stands at -0.03 from only 7 articles, too few to say which way it "
        f"leans; {no_interval}"
    )
    assert rows[everyone] == "-0.03 (n=7); change -0.03"
    newspapers = (
        "Newspapers: the index stands at +0.35 from only 4 articles, too few to say which way it leans; "
        + no_interval
    )
    assert rows[newspapers] == "+0.35 (n=4); change +0.35"  # no '[95% CI' under 8 articles
    assert not any("leans toward" in k for k in rows)
    mover = (
        "KR_A moved toward Washington against its previous 4 weeks "
        "(not established: fewer than 8 articles on a side)."
    )
    assert rows[mover] == "+0.05 → +0.35 (n=4 → 4)"
    pulled = next(k for k in rows if k.startswith("What pulled it"))
    assert "Seoul anchors itself to Washington." in pulled and rows[pulled] == "P(washington) 0.80"
    assert (
        rows["Coverage of THAAD & missile defence rose against its previous 4 weeks."]
        == "4 articles vs 0.0 a week before"
    )
    assert all(any(ch.isdigit() for ch in number) for number in rows.values())


def test_topics_attention_languages_and_league(report: ReportResult) -> None:
    md = report.markdown
    assert table_row(md, "## Topics and events", "THAAD & missile defence")[1:] == [
        "4",
        "4",
        "+0.35 (n=4)",
        "0.0",
        "+4.0",
    ]
    assert table_row(md, "## On-axis attention and languages", "Korean")[1:] == [
        "6",
        "5",
        "83%",
        "+0.24 (n=5)",
    ]
    assert table_row(md, "## On-axis attention and languages", "Chinese")[1:] == ["2", "2", "100%", "— (n=2)"]
    kr_a = table_row(md, "## Outlets this week", "KR_A")
    assert kr_a[1:] == [
        "South Korea",
        "Newspapers",
        "5",
        "4",
        "+0.35 (n=4)",
        "+0.30",  # no arrow: too few articles for an interval of the change
        "THAAD & missile defence (4)",
    ]
    league = md.split("## Outlets this week\n", 1)[1].split("\n## ", 1)[0]
    assert "| KR_B" not in league  # one relevant article: in the one-line summary, not a row
    assert (
        "2 other outlets had fewer than 3 relevant articles each (3 articles, 3 relevant, in all)" in league
    )


def test_evidence_only_confident_relevant_one_per_article_without_title(report: ReportResult) -> None:
    md = report.markdown
    evidence = md.split("## Evidence worth quoting", 1)[1].split("## Methodology", 1)[0]
    assert "concert" not in evidence  # the off-axis article is not relevant, whatever its passage says
    beijing = md.split("### Toward Beijing\n", 1)[1].split("\n#", 1)[0].strip()
    assert beijing.startswith(
        "- “Seoul should not follow Washington blindly.” — strength 0.68 · CN_A · 2026-11-23"
    )
    assert "Chinese · [Title w48_cn_a0](http://127.0.0.1/w48_cn_a0)" in beijing


def test_methodology_box_and_appendix(report: ReportResult) -> None:
    md = report.markdown
    box = md.split("## Methodology and caveats", 1)[1].split("\n## ", 1)[0]
    assert "DEMO DATA" in box and "Model version m2" in box
    assert md.split("\n\n")[1].startswith("> Demo data: publication dates are synthetic")  # the banner on top
    assert "fewer than 8 relevant articles" in md.split("## Stance index over time", 1)[1]
    assert (
        md.index("## Methodology and caveats")
        < md.index("## Appendix: operations and model")
        < md.index("### Funnel")
    )


def test_candidates_rules() -> None:
    def cand(
        aid: str, ordinal: int, probs: tuple[float, float, float, float], text: str, title: str
    ) -> Candidate:
        p = dict(zip(("washington", "hedge", "beijing", "irrelevant"), probs, strict=True))
        return Candidate(
            "s",
            "S",
            date(2026, 11, 23),
            "en",
            title,
            "https://x/a",
            text,
            aid,
            ordinal,
            max(p, key=lambda k: p[k]),
            p,
        )

    body = "Seoul deepens its alliance with Washington this week."
    picked = quotable(
        [
            cand("a", 0, (0.9, 0.05, 0.03, 0.02), f"Alliance news\n{body}", "Alliance news"),
            cand("a", 1, (0.7, 0.1, 0.1, 0.1), "Another washington-leaning passage in a.", "Alliance news"),
            cand("b", 0, (0.4, 0.3, 0.2, 0.1), "Not confident enough to be quoted at all.", "B"),
            cand("c", 0, (0.9, 0.0, 0.0, 0.1), "Only the title", "Only the title"),
        ],
        0.6,
    )
    assert [(c.article_id, c.ordinal, t, titled) for c, t, titled in picked] == [("a", 0, body, True)]
    lede = "Seoul weighs a second THAAD battery as Washington asks for more and Beijing warns"
    assert split_title(f"{lede} of consequences.", lede) == (f"{lede} of consequences.", False)
    assert split_title(f"{lede}\n{lede} of consequences.", lede) == (f"{lede} of consequences.", True)
    assert strip_title("韩美同盟新阶段美国要求韩国增加投入。", "韩美同盟新阶段") == "美国要求韩国增加投入。"
    assert strip_title("A body that does not repeat it.", "Headline") == "A body that does not repeat it."
    assert card_threshold({"abstention": {"threshold": 0.7}}) == 0.7
    assert card_threshold({"score": {"confidence_threshold": 0.55}}) == 0.55 and card_threshold({}) is None


def test_hollow_points_have_no_band_and_gaps_stay_gaps(tmp_path: Path) -> None:
    points = (
        Estimate(9, 0.2, 0.1, 0.3),
        Estimate(5, 0.1, -0.2, 0.4),
        Estimate(1),
        Estimate(8, -0.1, -0.2, 0.0),
    )
    solid, hollow = _values(points, "mean", True), _values(points, "mean", False)
    assert [None if math.isnan(v) else v for v in solid] == [0.2, None, None, -0.1]
    assert [None if math.isnan(v) else v for v in hollow] == [None, 0.1, None, None]
    assert math.isnan(_values(points, "low", True)[1])  # n=5: no band
    line = Line("대한민국 언론 · 中国媒体", palette.color("country", "KR"), points)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        index_chart(
            tmp_path / "c.png",
            "한국어 제목 / 中文标题",
            ("2026-W45", "2026-W46", "2026-W47", "2026-W48"),
            line,
            [],
        )
    missing = [str(w.message) for w in caught if "missing from" in str(w.message)]
    assert missing == [], missing[:3]


def test_one_colour_and_a_name_per_group_and_a_cjk_font() -> None:
    assert palette.color("country", "KR") == palette.color("country", "KR") != palette.color("country", "CN")
    assert palette.color("kind", "blog") != palette.color("country", "KR")
    assert palette.color("outlet", "noise-1") == palette.color("outlet", "noise-1")
    assert palette.display_name("country", "ZZ") == "Unknown / international"
    assert palette.display_name("kind", "think-tank") == "Think tanks"
    assert palette.display_name("language", "ko") == "Korean"
    if not Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc").exists():
        pytest.skip("fonts-noto-cjk is not installed (make install installs it as root)")
    assert palette.cjk_font() in palette.CJK_FONT_NAMES
    with style():
        fig = Figure()
        assert palette.cjk_font() in fig.text(0, 0, "사드").get_fontfamily()


def test_appendix_drops_all_zero_funnel_rows_and_names_metrics() -> None:
    rows = (FunnelRow("a", "A", 3, 3, 3, 0, 3, 0, 1, 0), FunnelRow("b", "B", 0, 0, 0, 0, 0, 0, 0, 0))
    data = ReportData(WEEK, (WEEK,), (WEEK,), "UTC", "", NOW, Totals(2, 3, 3, 3), funnel=rows)
    assert [f.source_id for f in _nonzero_funnel(data).funnel] == ["a"]
    assert readable("heads.en.temperature") == "Temperature (heads, English)"
    assert (
        readable("metrics.out_of_fold.calibrated.per_language.ko.ece") == "Calibration error (ECE) (Korean)"
    )
