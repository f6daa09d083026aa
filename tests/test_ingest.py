"""The ingest stage end to end against a loopback site: store, dedup, incremental, failures."""

from __future__ import annotations

import zlib
from pathlib import Path
from typing import Any

import duckdb

from flows.tools.loopback import LoopbackServer
from tests.ingest_site import build_site, feed_bytes, item, serve_story, sources_toml
from tests.stages import run_ingest
from warehouse.db import reader


def rows(settings: Any, sql: str) -> list[tuple[Any, ...]]:
    with reader(settings.warehouse_path) as con:
        return con.execute(sql).fetchall()


def test_first_run_stores_every_article_once(loopback: LoopbackServer, tmp_path: Path) -> None:
    settings = build_site(loopback, tmp_path)
    counts = run_ingest(settings)
    assert counts.feeds_polled == 2 and counts.feeds_failed == 0
    assert counts.discovered == 6
    stored = dict(rows(settings, "SELECT title, extraction_method FROM articles"))
    # five distinct canonical URLs: a1-utm folds into a1
    assert len(stored) == 5
    assert stored["외교 균형"] == "feed_content"  # page gone (404): the feed's full text is used
    assert stored["Alliance deepens"] == "trafilatura"
    korean = rows(settings, "SELECT text, language FROM articles WHERE title = '외교 균형'")[0]
    assert "실용 외교" in korean[0] and korean[1] == "ko"
    links = dict(rows(settings, "SELECT guid, article_id FROM entries"))
    assert links["a1-utm"] == links["a1"] is not None  # both feed items point at the one article


def test_syndicated_copy_is_marked_near_duplicate(loopback: LoopbackServer, tmp_path: Path) -> None:
    settings = build_site(loopback, tmp_path)
    run_ingest(settings)
    dup = rows(
        settings,
        "SELECT a.title, a.duplicate_kind, o.title FROM articles a"
        " JOIN articles o ON o.article_id = a.duplicate_of",
    )
    assert dup == [("Alliance deepens (wire copy)", "near", "Alliance deepens")]


def test_documents_keep_compressed_raw_html(loopback: LoopbackServer, tmp_path: Path) -> None:
    settings = build_site(loopback, tmp_path)
    run_ingest(settings)
    raw, size, final_url = rows(
        settings,
        "SELECT d.raw_html, d.raw_bytes, d.final_url FROM documents d JOIN articles a USING (document_id) "
        "WHERE a.title = 'Pragmatic diplomacy'",
    )[0]
    html = zlib.decompress(raw)
    assert len(html) == size and b"pragmatic diplomacy" in html.lower()
    assert final_url.endswith("/news/hedge.html")


def test_second_run_sends_conditional_requests_and_adds_nothing(
    loopback: LoopbackServer, tmp_path: Path
) -> None:
    settings = build_site(loopback, tmp_path)
    run_ingest(settings)
    before = rows(settings, "SELECT count(*) FROM articles")[0][0]
    loopback.requests.clear()
    counts = run_ingest(settings)
    assert counts.not_modified == 2 and counts.discovered == 0 and counts.extracted == 0
    feed_requests = [r for r in loopback.requests if r.path.startswith("/feeds/")]
    assert len(feed_requests) == 2
    assert all("if-none-match" in {k.lower() for k in r.headers} for r in feed_requests)
    assert not [r for r in loopback.requests if r.path.startswith("/news/")]
    assert rows(settings, "SELECT count(*) FROM articles")[0][0] == before
    assert rows(settings, "SELECT count(*) FROM feed_fetches WHERE not_modified")[0][0] == 2


def test_broken_feed_does_not_stop_the_others(loopback: LoopbackServer, tmp_path: Path) -> None:
    settings = build_site(loopback, tmp_path)
    loopback.route("/feeds/html.xml", b"<html><body><h1>Not a feed</h1></body></html>")
    loopback.route("/feeds/500.xml", b"oops", status=500)
    feeds = {
        "english": ("/feeds/english.xml", "en"),
        "korean": ("/feeds/korean.xml", "ko"),
        "html": ("/feeds/html.xml", "en"),
        "broken": ("/feeds/500.xml", "en"),
        "missing": ("/feeds/nope.xml", "en"),
    }
    settings.sources_file.write_text(sources_toml(feeds, loopback.base_url))
    counts = run_ingest(settings)
    assert counts.feeds_failed == 3 and counts.extracted >= 4
    errors = dict(
        rows(settings, "SELECT source_id, error_class FROM feed_fetches WHERE error_class IS NOT NULL")
    )
    assert errors == {"html": "not_a_feed", "broken": "http_5xx", "missing": "http_4xx"}
    assert rows(settings, "SELECT consecutive_failures FROM sources WHERE source_id = 'broken'") == [(1,)]


def test_gone_feed_disables_source_and_moved_feed_is_followed(
    loopback: LoopbackServer, tmp_path: Path
) -> None:
    settings = build_site(loopback, tmp_path)
    loopback.route("/feeds/gone.xml", b"gone", status=410)
    loopback.route("/feeds/old.xml", b"", status=301, headers={"Location": "/feeds/english.xml"})
    feeds = {"gone": ("/feeds/gone.xml", "en"), "moved": ("/feeds/old.xml", "en")}
    settings.sources_file.write_text(sources_toml(feeds, loopback.base_url))
    run_ingest(settings)
    state = dict(
        rows(
            settings, "SELECT source_id, coalesce(disabled_reason, current_feed_url) FROM sources ORDER BY 1"
        )
    )
    assert "410 Gone" in state["gone"]
    assert state["moved"] == loopback.url("/feeds/english.xml")
    loopback.requests.clear()
    run_ingest(settings)
    paths = {r.path for r in loopback.requests}
    assert "/feeds/gone.xml" not in paths and "/feeds/old.xml" not in paths
    assert "/feeds/english.xml" in paths


def test_repeated_failures_back_a_source_off_visibly(loopback: LoopbackServer, tmp_path: Path) -> None:
    settings = build_site(loopback, tmp_path).replace(failure_backoff_after=2)
    loopback.route("/feeds/500.xml", b"oops", status=500)
    settings.sources_file.write_text(sources_toml({"broken": ("/feeds/500.xml", "en")}, loopback.base_url))
    run_ingest(settings)
    assert rows(settings, "SELECT backoff_until IS NULL FROM sources") == [(True,)]
    run_ingest(settings)
    failures, backed_off = rows(settings, "SELECT consecutive_failures, backoff_until > now() FROM sources")[
        0
    ]
    assert failures == 2 and backed_off
    loopback.requests.clear()
    counts = run_ingest(settings)
    assert counts.feeds_polled == 0 and not loopback.requests


def test_robots_disallowed_page_is_recorded_not_fetched(loopback: LoopbackServer, tmp_path: Path) -> None:
    settings = build_site(loopback, tmp_path)
    loopback.route("/robots.txt", b"User-agent: *\nDisallow: /private/\n", content_type="text/plain")
    secret = serve_story(loopback, "/private/secret.html", "alliance")
    loopback.route("/feeds/p.xml", feed_bytes("p", [item("p1", secret, "Secret")]))
    settings.sources_file.write_text(sources_toml({"p": ("/feeds/p.xml", "en")}, loopback.base_url))
    counts = run_ingest(settings)
    assert counts.failed == 1 and counts.failures == {"page:robots": 1}
    assert rows(settings, "SELECT state, last_error_class FROM entries") == [("failed", "robots")]
    assert not [r for r in loopback.requests if r.path.startswith("/private/")]


def test_pages_that_keep_failing_are_given_up(loopback: LoopbackServer, tmp_path: Path) -> None:
    settings = build_site(loopback, tmp_path).replace(page_attempts=2)
    loopback.route("/feeds/d.xml", feed_bytes("d", [item("d1", loopback.url("/dead.html"), "Dead link")]))
    settings.sources_file.write_text(sources_toml({"d": ("/feeds/d.xml", "en")}, loopback.base_url))
    run_ingest(settings)
    run_ingest(settings)
    assert rows(settings, "SELECT state, attempts, last_error_class FROM entries") == [
        ("gave_up", 2, "http_4xx")
    ]
    loopback.requests.clear()
    run_ingest(settings)
    assert not [r for r in loopback.requests if r.path == "/dead.html"]


def test_warehouse_is_readable_by_plain_duckdb(loopback: LoopbackServer, tmp_path: Path) -> None:
    settings = build_site(loopback, tmp_path)
    run_ingest(settings)
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    assert con.execute("SELECT count(*) FROM runs").fetchone() == (0,)  # plain run_ingest opens no run row
    assert con.execute("SELECT count(*) FROM sources").fetchone() == (2,)
    con.close()
