"""Feed parsing: RSS/Atom, relative links, non-feeds, malformed feeds and hostile XML."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from flows.ingest.feeds import ParsedFeed, parse_feed
from flows.tools.loopback import LoopbackServer

DATA = Path(__file__).parent / "data" / "feeds"
RSS_HEADERS = {"Content-Type": "application/rss+xml; charset=utf-8"}
ROOT = Path(__file__).resolve().parents[1]


def _parse(
    name: str, headers: dict[str, str] | None = None, url: str = "https://news.example.com/feed.xml"
) -> ParsedFeed:
    return parse_feed((DATA / name).read_bytes(), headers or RSS_HEADERS, url)


def test_rss2_entries_links_and_drops() -> None:
    feed = _parse("rss2.xml")
    assert feed.error_class is None and feed.warning is None
    assert feed.title == "Example Commentary"
    by_guid = {e.guid: e for e in feed.entries}
    assert list(by_guid) == ["ex-1001", "https://news.example.com/analysis/hedging"]
    first = by_guid["ex-1001"]
    assert first.url == "https://news.example.com/opinion/2025/12/seoul-alliance?utm_source=rss"
    assert first.title == "Seoul\u2019s alliance choice"
    assert first.author == "Kim Min-jun"
    assert first.published_at == datetime(2025, 12, 3, 0, 30, tzinfo=UTC)
    assert first.content_html == "<p>Seoul has anchored itself to Washington.</p><p>Beijing is watching.</p>"
    permalink = by_guid["https://news.example.com/analysis/hedging"]
    assert permalink.url == "https://news.example.com/analysis/hedging"
    assert permalink.content_html == "<p>A middle way between the two powers.</p>"
    # no link, repeated guid ex-1001, mailto: link
    assert feed.dropped == 3


def test_atom_entries_relative_links_and_longest_content() -> None:
    feed = _parse(
        "atom.xml", {"content-type": "application/atom+xml"}, "https://review.example.org/blog/feed.atom"
    )
    assert feed.error_class is None
    assert feed.title == "Axis Review"
    first, second = feed.entries
    assert first.guid == "tag:review.example.org,2025:post-7"
    assert first.url == "https://review.example.org/blog/posts/7.html"
    assert first.author == "Lee Seo-yeon"
    assert first.published_at == datetime(2025, 12, 3, 21, 0, tzinfo=UTC)
    assert first.content_html is not None and "much longer body" in first.content_html
    assert second.url == "https://review.example.org/posts/8.html"
    assert second.published_at == datetime(2025, 12, 6, 10, 0, tzinfo=UTC)
    assert all(e.published_at is None or e.published_at.tzinfo is not None for e in feed.entries)


def test_rss1_rdf_after_leading_garbage() -> None:
    body = (
        b"<br />\n<b>Warning</b>: Undefined variable $x in feed.php on line 3<br />\n"
        b'<?xml version="1.0" encoding="utf-8"?>\n'
        b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/">'
        b'<channel rdf:about="https://e.org/"><title>RDF feed</title></channel>'
        b'<item rdf:about="https://e.org/a"><title>RDF item</title><link>https://e.org/a</link></item>'
        b"</rdf:RDF>"
    )
    feed = parse_feed(body, {"content-type": "application/rdf+xml"}, "https://e.org/rss")
    assert feed.error_class is None
    assert (feed.title, [e.url for e in feed.entries]) == ("RDF feed", ["https://e.org/a"])


def test_html_page_is_not_a_feed() -> None:
    feed = _parse("html_page.html", {"content-type": "text/html; charset=utf-8"})
    assert feed.error_class == "not_a_feed"
    assert feed.error_message is not None and "HTML page" in feed.error_message
    assert "Just a moment" in feed.error_message
    assert feed.entries == []


@pytest.mark.parametrize(
    ("body", "needle"),
    [(b"", "empty"), (b'{"version": "https://jsonfeed.org/version/1.1", "items": []}', "root element")],
)
def test_other_bodies_are_not_feeds(body: bytes, needle: str) -> None:
    feed = parse_feed(body, {"content-type": "application/json"}, "https://e.com/feed")
    assert feed.error_class == "not_a_feed"
    assert feed.error_message is not None and needle in feed.error_message


def test_feed_served_as_text_html_still_parses() -> None:
    feed = _parse("rss2.xml", {"content-type": "text/html"})
    assert feed.error_class is None and len(feed.entries) == 2


def test_malformed_feed_keeps_good_entries_with_warning() -> None:
    feed = _parse("malformed.xml", {"content-type": "text/xml"}, "https://broken.example.com/rss")
    assert feed.error_class is None
    urls = [e.url for e in feed.entries]
    assert "https://broken.example.com/1" in urls and "https://broken.example.com/4" in urls
    assert feed.entries[-1].title == "Last good 한국"
    assert feed.warning is not None
    assert "mismatched tag" in feed.warning and "undecodable byte" in feed.warning


def test_truncated_feed_without_entries_is_malformed() -> None:
    body = b'<?xml version="1.0"?><rss version="2.0"><channel><title>Cut off mid-'
    feed = parse_feed(body, RSS_HEADERS, "https://e.com/feed")
    assert feed.error_class == "malformed"
    assert feed.error_message
    assert feed.entries == []


def test_valid_empty_feed_is_not_an_error() -> None:
    body = b'<rss version="2.0"><channel><title>Quiet</title></channel></rss>'
    feed = parse_feed(body, RSS_HEADERS, "https://e.com/feed")
    assert (feed.error_class, feed.warning, feed.entries, feed.title) == (None, None, [], "Quiet")


def test_control_characters_are_removed_with_warning() -> None:
    body = b'<rss version="2.0"><channel><item><title>Bell\x07 here</title><link>https://e.com/1</link></item></channel></rss>'
    feed = parse_feed(body, RSS_HEADERS, "https://e.com/feed")
    assert [e.title for e in feed.entries] == ["Bell here"]
    assert feed.warning is not None and "not allowed in XML" in feed.warning


def test_max_entries_keeps_newest() -> None:
    items = "".join(
        f"<item><title>n{i}</title><link>https://e.com/{i}</link>"
        f"<pubDate>Mon, {i + 1:02d} Dec 2025 00:00:00 GMT</pubDate></item>"
        for i in range(10)
    )
    body = f'<rss version="2.0"><channel>{items}</channel></rss>'.encode()
    feed = parse_feed(body, RSS_HEADERS, "https://e.com/feed", max_entries=3)
    assert [e.title for e in feed.entries] == ["n9", "n8", "n7"]
    assert (feed.truncated, feed.dropped) == (7, 0)


# ---------------------------------------------------------------------------- hostile XML

_CHILD = """
import json, resource, sys
resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
from flows.ingest.feeds import parse_feed
body = sys.stdin.buffer.read()
feed = parse_feed(body, {"content-type": "application/rss+xml"}, "https://e.com/feed")
print(json.dumps({"titles": [e.title for e in feed.entries], "urls": [e.url for e in feed.entries],
                  "error": feed.error_class, "warning": feed.warning}))
"""


def _parse_in_child(body: bytes) -> dict[str, Any]:
    """Parse in a child process capped at 1 GiB of address space and 30 s."""
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD], input=body, capture_output=True, timeout=30, cwd=ROOT, check=False
    )
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")[-2000:]
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


def test_billion_laughs_neither_hangs_nor_explodes() -> None:
    result = _parse_in_child((DATA / "billion_laughs.xml").read_bytes())
    assert result["error"] is None
    assert "https://laughs.example.com/good" in result["urls"]
    assert all(len(t) < 100 for t in result["titles"])
    assert result["warning"]


def test_quadratic_entity_blowup_is_not_expanded() -> None:
    body = (
        '<?xml version="1.0"?>\n<!DOCTYPE rss [<!ENTITY a "' + "x" * 100_000 + '">]>\n'
        '<rss version="2.0"><channel><title>Q</title><item><title>' + "&a;" * 50_000 + "</title>"
        "<link>https://e.com/a</link></item><item><title>ok</title><link>https://e.com/b</link></item>"
        "</channel></rss>"
    ).encode()
    result = _parse_in_child(body)
    assert result["urls"] == ["https://e.com/a", "https://e.com/b"]
    assert all(len(t) <= len(body) for t in result["titles"])


def test_external_entities_are_never_fetched_or_read(loopback: LoopbackServer) -> None:
    loopback.route("/external.dtd", b'<!ENTITY remote "FETCHED">', content_type="application/xml-dtd")
    loopback.route("/entity", b"FETCHED", content_type="text/plain")
    loopback.route("/param", b'<!ENTITY remote "FETCHED">', content_type="text/plain")
    port = loopback.base_url.rsplit(":", 1)[1]
    body = (DATA / "external_entity.xml").read_text().replace("PORT", port).encode()
    feed = parse_feed(body, RSS_HEADERS, "https://xxe.example.com/feed")
    hostname = Path("/etc/hostname").read_text().strip() if Path("/etc/hostname").exists() else "\x00"
    assert [e.url for e in feed.entries] == ["https://xxe.example.com/1"]
    title = feed.entries[0].title or ""
    assert "FETCHED" not in title and (hostname not in title or not hostname)
    assert loopback.requests == []
