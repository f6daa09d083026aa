"""An article's canonical URL: the page's same-site rel=canonical, else the final URL after redirects."""

from __future__ import annotations

from pathlib import Path

from flows.ingest.extract import canonical_link
from flows.tools.demo_site import article_page
from flows.tools.loopback import LoopbackServer
from tests.ingest_site import NOW, STORIES, fast_settings, feed_bytes, item, sources_toml
from tests.stages import run_ingest
from warehouse.db import reader


def with_canonical(page: bytes, href: str) -> bytes:
    """The page with a <link rel="canonical"> in its head."""
    return page.replace(b"</head>", f'<link rel="canonical" href="{href}"></head>'.encode(), 1)


def test_canonical_link_is_read_and_made_absolute() -> None:
    page = '<html><head><link href="/a/b?x=1" rel="canonical"><link rel="alternate" href="/c"></head></html>'
    assert canonical_link(page, "http://site.test/feed/go") == "http://site.test/a/b?x=1"
    assert canonical_link("<link rel='canonical' href='javascript:alert(1)'>", "http://s/") is None
    assert canonical_link("<html><head></head></html>", "http://s/") is None


def test_two_redirectors_and_a_canonical_store_the_article_once(
    loopback: LoopbackServer, tmp_path: Path
) -> None:
    page = article_page("Alliance", STORIES["alliance"], "Test Daily", NOW)
    loopback.route("/news/alliance.html", with_canonical(page, "/articles/alliance"))
    story = loopback.url("/news/alliance.html")
    for path in ("/~r/feedburner/alliance", "/go/alliance"):
        loopback.route(path, b"", status=301, headers={"Location": story + "?utm_source=feed"})
    hedge = article_page("Hedge", STORIES["hedge"], "Test Daily", NOW)
    # a canonical on another host is not trusted: the final URL stands
    loopback.route("/news/hedge.html", with_canonical(hedge, "http://127.0.0.2/elsewhere"))
    elsewhere = loopback.url("/news/hedge.html")
    one = [item("r1", loopback.url("/~r/feedburner/alliance"), "Alliance (FeedBurner)")]
    two = [item("g1", loopback.url("/go/alliance"), "Alliance (go)"), item("h1", elsewhere, "Hedge")]
    loopback.route("/feeds/one.xml", feed_bytes("one", one), content_type="application/rss+xml")
    loopback.route("/feeds/two.xml", feed_bytes("two", two), content_type="application/rss+xml")
    settings = fast_settings(tmp_path)
    feeds = {"one": ("/feeds/one.xml", "en"), "two": ("/feeds/two.xml", "en")}
    settings.sources_file.write_text(sources_toml(feeds, loopback.base_url), encoding="utf-8")

    counts = run_ingest(settings)

    with reader(settings.warehouse_path) as con:
        articles = con.execute("SELECT canonical_url, title FROM articles ORDER BY 1").fetchall()
        entries = con.execute("SELECT guid, url, article_id, state FROM entries ORDER BY guid").fetchall()
        ids = dict(con.execute("SELECT canonical_url, article_id FROM articles").fetchall())
    assert [a[0] for a in articles] == [loopback.url("/articles/alliance"), elsewhere]
    alliance = ids[loopback.url("/articles/alliance")]
    by_guid = {guid: (url, article_id, state) for guid, url, article_id, state in entries}
    assert by_guid["r1"] == (loopback.url("/~r/feedburner/alliance"), alliance, "stored")
    assert by_guid["g1"][:2] == (loopback.url("/go/alliance"), alliance)  # the entry keeps its link
    assert counts.duplicates == 1 and counts.extracted == 2
