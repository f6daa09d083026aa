"""The report as the analyst forwards it, in Chromium at 1280 px and in print media: the first
900 px hold the headline sentence and the key chart, no word is broken inside a table cell or an
evidence card, every "leans" sentence rests on an interval that excludes zero (report.json), and
an A4 PDF prints."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from flows.report.facts import DEMO_MARKER
from flows.report.weekly import ReportResult, build_report
from tests.test_one_rule import seed_enough
from tests.test_report import NOW, WEEK, fresh
from tests.test_report_browser import chromium, serve_directory  # noqa: F401
from tests.test_web_browser import Browser, browser  # noqa: F401

LONG = (
    "Seoul's counter-intelligence-and-procurement officials argued on Tuesday that the "
    "extended-deterrence consultations with Washington, which the opposition calls "
    "over-institutionalised, should anchor the alliance for the 2026-2030 planning cycle."
)
# Every Latin word (letters and digits with the punctuation inside them: hyphens, slashes, dots)
# of every table cell and evidence card, checked for being laid out on more than one line; Korean
# and Chinese text may wrap between characters.
BROKEN_WORDS = """(() => {
  const found = [];
  document.querySelectorAll("td, th, .card blockquote, .card .facts > *").forEach(el => {
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const re = /[A-Za-z0-9][A-Za-z0-9\\-\\u2010\\/.,:;'\\u2019%()&+]*/g;
      let m;
      while ((m = re.exec(node.data)) !== null) {
        if (m[0].includes("://")) continue;
        const range = document.createRange();
        range.setStart(node, m.index); range.setEnd(node, m.index + m[0].length);
        const rects = [...range.getClientRects()].filter(r => r.width > 0);
        const tops = new Set(rects.map(r => Math.round(r.top)));
        if (tops.size > 1) found.push(m[0]);
      }
    }
  });
  return found;
})()"""
FIRST_SCREEN = """(() => {
  const box = s => { const e = document.querySelector(s); if (!e) return null;
    const r = e.getBoundingClientRect(); return {top: r.top + scrollY, bottom: r.bottom + scrollY,
    text: e.textContent || e.getAttribute("alt"), loaded: e.tagName !== "IMG" || e.naturalWidth > 0}; };
  return {headline: box("p.headline"), chart: box("img.key"), banner: box("p.banner"),
          overflow: document.documentElement.scrollWidth - document.documentElement.clientWidth};
})()"""
LEANS = """[...document.querySelectorAll("p, td, li")].map(e => e.textContent)
  .filter(t => t.includes("leans toward"))"""


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> ReportResult:
    """A report with intervals, Korean and Chinese outlet names, long hyphenated passages, voices and
    a demo marker."""
    base = tmp_path_factory.mktemp("firstscreen")
    con = fresh(base / "w.duckdb")
    seed_enough(con)
    con.execute("UPDATE sources SET name = '조선일보 사설 (Chosun Ilbo editorials)' WHERE source_id = 'kr_a'")
    con.execute("UPDATE sources SET name = '环球时报 Global-Times-editorial-desk' WHERE source_id = 'cn_a'")
    con.execute("UPDATE passages SET text = ? WHERE article_id = 'w48_kr_a0'", [LONG])
    con.execute("UPDATE passage_scores SET voice = 'seoul' WHERE article_id = 'w48_kr_a0'")
    con.execute("UPDATE passage_scores SET voice = 'beijing' WHERE article_id = 'w48_cn_a0'")
    con.execute(
        "UPDATE articles SET title = ? WHERE article_id = 'w48_kr_a0'",
        ["한미 동맹, 사드가 다시 쟁점: a very long headline about extended deterrence and procurement " * 2],
    )
    con.execute(
        "UPDATE sources SET config_json = ? WHERE source_id = 'kr_b'", [json.dumps({"notes": DEMO_MARKER})]
    )
    result = build_report(con, WEEK, out_dir=base / "out", now=NOW)
    con.close()
    return result


@pytest.fixture(scope="module")
def served(report: ReportResult) -> Iterator[str]:
    """The report's URL on a loopback server."""
    server, base = serve_directory(report.directory)
    yield f"{base}/report.html"
    server.shutdown()
    server.server_close()


def open_at(browser: Browser, url: str, width: int, media: str) -> None:  # noqa: F811
    """Load the page at ``width`` × 900 px in ``media`` ('screen' or 'print')."""
    browser.send(
        "Emulation.setDeviceMetricsOverride", width=width, height=900, deviceScaleFactor=1, mobile=False
    )
    browser.send("Emulation.setEmulatedMedia", media=media)
    browser.goto(url)
    browser.wait("[...document.images].every(i => i.complete)")


def test_first_screen_tells_the_week_and_nothing_breaks_at_1280_px_and_in_print(
    browser: Browser,  # noqa: F811
    served: str,
    report: ReportResult,
    tmp_path: Path,
) -> None:
    open_at(browser, served, 1280, "screen")
    screen = browser.eval(FIRST_SCREEN)
    assert screen["banner"] and screen["banner"]["top"] < screen["headline"]["top"]  # demo banner on top
    assert "stance index" in screen["headline"]["text"] and screen["headline"]["bottom"] <= 900
    assert screen["chart"]["loaded"] and screen["chart"]["bottom"] <= 900, screen["chart"]
    assert screen["overflow"] <= 0
    assert browser.eval(BROKEN_WORDS) == []
    cards = browser.eval("document.querySelectorAll('.card').length")
    assert cards >= 3 and "voice: Seoul" in browser.eval("document.querySelector('.cards').textContent")

    numbers = json.loads((report.directory / "report.json").read_text(encoding="utf-8"))
    leaning = browser.eval(LEANS)
    assert leaning, "the seeded week has levels whose intervals exclude zero"
    for text in leaning:
        claims = [c for c in numbers["claims"] if c["text"] in " ".join(text.split())]
        assert claims, text
        for c in claims:
            assert c["low"] is not None and (c["low"] > 0 or c["high"] < 0), c

    # A4 content width (210 mm − 2 × 14 mm at 96 dpi ≈ 688 px) in print media, then a real PDF
    open_at(browser, served, 688, "print")
    assert browser.eval(BROKEN_WORDS) == []
    assert browser.eval("document.documentElement.scrollWidth - document.documentElement.clientWidth") <= 0
    pdf = base64.b64decode(browser.send("Page.printToPDF", paperWidth=8.27, paperHeight=11.69)["data"])
    assert pdf.startswith(b"%PDF") and len(pdf) > 20_000
    (tmp_path / "report.pdf").write_bytes(pdf)
