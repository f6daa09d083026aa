"""report.md cannot carry markup: rendered by a real Markdown renderer, nothing from the input is live."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from flows.report.render import Document, Link, Paragraph, Section, Table, to_markdown
from flows.report.weekly import build_report
from tests.test_report import NOW, WEEK, fresh, seed_report

HOSTILE = (
    "<script>alert(1)</script> <img src=x onerror=alert(2)> [click](javascript:alert(3)) "
    "</td></tr></table><iframe src=//evil> a \\| b | c \\ d <javascript:alert(4)> "
    "![i](javascript:alert(5)) *em* `code` # not a heading\n- not a list\n\n1. not a list"
)


class Collect(HTMLParser):
    """Every tag, attribute and table row (cell count) of rendered HTML."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str]] = []
        self.rows: list[int] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs += [(k, v or "") for k, v in attrs]
        if tag == "tr":
            self.rows.append(0)
        if tag in ("td", "th") and self.rows:
            self.rows[-1] += 1


def rendered(markdown: str) -> Collect:
    """Render with markdown-it-py's CommonMark preset (raw HTML enabled: the worst case) plus tables."""
    page = Collect()
    page.feed(MarkdownIt("commonmark").enable("table").render(markdown))
    return page


def assert_inert(page: Collect) -> None:
    """No tag the input could inject, no handler, only http(s) links and our own chart images."""
    assert not {"script", "iframe", "object", "embed", "style"} & set(page.tags), page.tags
    assert not any(k.startswith("on") for k, _ in page.attrs), page.attrs
    for key, value in page.attrs:
        if key == "href":
            assert value.startswith(("http://", "https://")), value
        if key == "src":
            assert value.endswith(".png") and "/" not in value, value


def hostile_warehouse(path: Path) -> Path:
    """The report module's seeded warehouse with every feed/page/sources.toml string made hostile."""
    con = fresh(path)
    seed_report(con)
    hostile = [HOSTILE]
    con.execute("UPDATE sources SET name = ?, disabled_reason = ?, affiliation = ?", hostile * 3)
    con.execute("UPDATE articles SET title = ?, author = ?, site_name = ?", hostile * 3)
    con.execute(
        "UPDATE articles SET canonical_url = 'javascript:alert(6)//' || article_id, url = 'javascript:x'"
    )
    con.execute("UPDATE passages SET text = ?", hostile)
    con.execute("UPDATE feed_fetches SET error_message = ?, url = ?", hostile * 2)
    con.execute("UPDATE entries SET last_error = ?, title = ?", hostile * 2)
    con.close()
    return path


def test_report_md_renders_without_live_markup(tmp_path: Path) -> None:
    db = hostile_warehouse(tmp_path / "w.duckdb")
    result = build_report(db, WEEK, out_dir=tmp_path / "out", now=NOW)
    markdown = result.markdown_path.read_text(encoding="utf-8")
    assert markdown == result.markdown  # the Prefect artifact carries the same text
    assert "<script" not in markdown and "<iframe" not in markdown
    page = rendered(markdown)
    assert_inert(page)
    html = MarkdownIt("commonmark").enable("table").render(markdown)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # the hostile text is shown, as text
    assert page.rows and all(n > 0 for n in page.rows)


@pytest.mark.parametrize("cell", [HOSTILE, "x|y", "a \\| b", "[t](javascript:x)", "<b onclick=x>t</b>"])
def test_one_table_row_stays_one_row_of_two_cells(cell: str) -> None:
    doc = Document(
        "title <b>",
        [Paragraph(cell)],
        [Section(cell, [Table(("a", "b"), ((cell, Link(cell, "javascript:alert(1)")),))])],
    )
    page = rendered(to_markdown(doc))
    assert_inert(page)
    assert page.rows == [2, 2] and "a" not in page.tags


def test_only_http_links_survive() -> None:
    links = [
        "https://ok.example/a(b)",
        "http://ok.example/x y",
        " javascript:alert(1)",
        "JAVASCRIPT:x",
        "data:text/html,<script>",
        "http:alert(1)",
        "vbscript:x",
        "//evil.example/",
    ]
    doc = Document("t", [], [Section("s", [Table(("l",), tuple((Link("x", u),) for u in links))])])
    page = rendered(to_markdown(doc))
    hrefs = [v for k, v in page.attrs if k == "href"]
    assert hrefs == ["https://ok.example/a%28b%29", "http://ok.example/x%20y"]
