"""A page or feed whose text holds NULs, control characters or lone surrogates is stored cleaned."""

from __future__ import annotations

from pathlib import Path

from flows.ingest.feeds import parse_feed
from flows.tools.demo_site import article_page
from flows.tools.loopback import LoopbackServer
from tests.ingest_site import NOW, STORIES, fast_settings, feed_bytes, item, sources_toml
from tests.stages import run_ingest
from warehouse.db import reader

HOSTILE_REFS = "&#xD800;&#0;&#x1;&#27;&#xDFFF;&#55296;"


def dirty_page(paragraphs: list[str]) -> bytes:
    """An article page whose paragraphs carry raw control bytes and references to NUL, controls and
    lone surrogates."""
    marked = [f"{p} QQHOSTILE" for p in paragraphs]
    page = article_page("Dirty QQHOSTILE page", marked, "Test Daily", NOW)
    return page.replace(b"QQHOSTILE", HOSTILE_REFS.encode() + b" \x01\x1b raw")


def assert_clean(value: str) -> None:
    assert not any(ord(c) < 32 and c not in "\t\n\r" for c in value), repr(value[:200])
    assert not any(0xD800 <= ord(c) <= 0xDFFF for c in value), repr(value[:200])
    value.encode("utf-8")  # strict: no lone surrogate reaches the warehouse or the encoders


def test_page_and_feed_text_is_stored_cleaned(loopback: LoopbackServer, tmp_path: Path) -> None:
    loopback.route("/news/dirty.html", dirty_page(STORIES["alliance"]))
    feed_text = "".join(f"<p>{p} {HOSTILE_REFS}</p>" for p in STORIES["hedge"])
    items = [
        item("d1", loopback.url("/news/dirty.html"), f"Dirty {HOSTILE_REFS} title"),
        item("d2", loopback.url("/gone.html"), f"Feed {HOSTILE_REFS} text", content=feed_text),
    ]
    loopback.route("/feeds/dirty.xml", feed_bytes("dirty", items), content_type="application/rss+xml")
    settings = fast_settings(tmp_path)
    settings.sources_file.write_text(
        sources_toml({"dirty": ("/feeds/dirty.xml", "en")}, loopback.base_url), encoding="utf-8"
    )
    run_ingest(settings)
    with reader(settings.warehouse_path) as con:
        stored = con.execute("SELECT title, text FROM articles ORDER BY canonical_url").fetchall()
        entries = con.execute("SELECT state, title, feed_content FROM entries ORDER BY guid").fetchall()
    assert [e[0] for e in entries] == ["stored", "stored"] and len(stored) == 2
    for value in [v for row in stored + entries for v in row if v]:
        assert_clean(value)
    texts = " ".join(text for _, text in stored)
    assert "Seoul" in texts and "\ufffd" in texts  # the surrogate references are shown as U+FFFD


def test_feed_with_surrogate_references_parses() -> None:
    body = feed_bytes("x", [item("g", "http://127.0.0.1/a", f"A {HOSTILE_REFS} b")])
    parsed = parse_feed(body, {}, "http://127.0.0.1/feed.xml")
    assert parsed.error_class is None and len(parsed.entries) == 1
