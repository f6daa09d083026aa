"""flows.ingest.fetch: conditional requests, redirects, retries, robots.txt, politeness, fetch_many."""

from __future__ import annotations

import email.utils
import itertools
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler

import pytest

from flows.ingest.fetch import ERROR_CLASSES, Fetcher, FetchResult, parse_retry_after
from flows.tools.loopback import LoopbackServer, respond

MakeFetcher = Callable[..., Fetcher]


def _sequence(*answers: tuple[int, dict[str, str]]) -> Callable[[BaseHTTPRequestHandler], None]:
    """Handler answering with the given (status, headers) in turn, then repeating the last."""
    queue = list(answers)
    lock = threading.Lock()

    def handle(request: BaseHTTPRequestHandler) -> None:
        with lock:
            status, headers = queue.pop(0) if len(queue) > 1 else queue[0]
        respond(request, status, f"status {status}".encode(), headers)

    return handle


def _paths(server: LoopbackServer) -> list[str]:
    return [r.path for r in server.requests]


def test_result_shape_and_lower_case_headers(loopback: LoopbackServer, make_fetcher: MakeFetcher) -> None:
    loopback.route("/p", "<p>한국</p>".encode(), headers={"X-Custom-Thing": "A"})
    result = make_fetcher().fetch(loopback.url("/p"), accept="text/html")
    assert isinstance(result, FetchResult) and result.ok and not result.not_modified
    assert result.body == "<p>한국</p>".encode()  # bytes, no charset decoding
    assert result.headers["x-custom-thing"] == "A" and all(k == k.lower() for k in result.headers)
    assert (result.status_code, result.error_class, result.error_message) == (200, None, None)
    assert result.final_url == result.url == loopback.url("/p") and result.elapsed_ms > 0
    assert loopback.requests[0].headers["accept"] == "text/html"
    assert len(ERROR_CLASSES) == 14


def test_conditional_get_with_etag_and_last_modified(
    loopback: LoopbackServer, make_fetcher: MakeFetcher
) -> None:
    loopback.route("/feed.xml", b"<rss/>", content_type="application/rss+xml")
    fetcher = make_fetcher()
    first = fetcher.fetch(loopback.url("/feed.xml"))
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    by_etag = fetcher.fetch(loopback.url("/feed.xml"), etag=etag)
    assert by_etag.not_modified and not by_etag.ok and by_etag.error_class is None
    assert by_etag.status_code == 304 and by_etag.body == b""
    assert loopback.requests[1].headers["if-none-match"] == etag
    by_date = fetcher.fetch(loopback.url("/feed.xml"), last_modified=modified)
    assert by_date.not_modified and loopback.requests[2].headers["if-modified-since"] == modified
    stale = fetcher.fetch(loopback.url("/feed.xml"), etag='"old"')
    assert stale.ok and stale.body == b"<rss/>"


def test_permanent_redirect_chain(loopback: LoopbackServer, make_fetcher: MakeFetcher) -> None:
    loopback.route("/a", b"", status=301, headers={"Location": "/b"})
    loopback.route("/b", b"", status=308, headers={"Location": loopback.url("/c")})
    loopback.route("/c", b"final")
    result = make_fetcher().fetch(loopback.url("/a"))
    assert result.ok and result.body == b"final" and result.final_url == loopback.url("/c")
    assert result.redirects == [(301, loopback.url("/b")), (308, loopback.url("/c"))]
    assert result.permanent_redirect == loopback.url("/c")


def test_temporary_hop_means_no_permanent_redirect(
    loopback: LoopbackServer, make_fetcher: MakeFetcher
) -> None:
    loopback.route("/a", b"", status=301, headers={"Location": "/b"})
    loopback.route("/b", b"", status=302, headers={"Location": "c"})
    loopback.route("/c", b"final")
    result = make_fetcher().fetch(loopback.url("/a"))
    assert result.ok and result.permanent_redirect is None and [c for c, _ in result.redirects] == [301, 302]


def test_redirect_loop(loopback: LoopbackServer, make_fetcher: MakeFetcher) -> None:
    loopback.route("/a", b"", status=302, headers={"Location": "/b"})
    loopback.route("/b", b"", status=302, headers={"Location": "/a"})
    result = make_fetcher().fetch(loopback.url("/a"))
    assert result.error_class == "redirect_loop" and _paths(loopback) == ["/a", "/b"]


def test_redirect_without_location_is_an_error(loopback: LoopbackServer, make_fetcher: MakeFetcher) -> None:
    loopback.route("/", b"moved somewhere", status=301)
    result = make_fetcher().fetch(loopback.url("/"))
    assert result.error_class == "protocol" and "Location" in (result.error_message or "")
    assert result.status_code == 301 and result.redirects == [] and not result.ok


def test_oversized_error_page_keeps_its_http_class(
    loopback: LoopbackServer, make_fetcher: MakeFetcher
) -> None:
    loopback.route("/", b"e" * 5000, status=404)
    result = make_fetcher(max_body_bytes=1000).fetch(loopback.url("/"))
    assert (result.error_class, result.status_code, result.body) == ("http_4xx", 404, b"")


def test_too_many_redirects(loopback: LoopbackServer, make_fetcher: MakeFetcher) -> None:
    for hop in range(4):
        loopback.route(f"/r{hop}", b"", status=307, headers={"Location": f"/r{hop + 1}"})
    loopback.route("/r4", b"end")
    fetcher = make_fetcher(max_redirects=3)
    result = fetcher.fetch(loopback.url("/r0"))
    assert result.error_class == "too_many_redirects" and len(result.redirects) == 4
    assert fetcher.fetch(loopback.url("/r1")).ok  # exactly three hops are fine


def test_5xx_is_retried_until_success(loopback: LoopbackServer, make_fetcher: MakeFetcher) -> None:
    loopback.handler("/", _sequence((500, {}), (503, {}), (200, {})))
    result = make_fetcher(retries=2).fetch(loopback.url("/"))
    assert result.ok and result.attempts == 3 and result.body == b"status 200"


def test_persistent_500_gives_up(loopback: LoopbackServer, make_fetcher: MakeFetcher) -> None:
    loopback.route("/", b"boom", status=500)
    result = make_fetcher(retries=2).fetch(loopback.url("/"))
    assert result.error_class == "http_5xx" and result.status_code == 500 and result.body == b"boom"
    assert result.attempts == 3 and len(loopback.requests) == 3


@pytest.mark.parametrize("status", [404, 410])
def test_4xx_is_not_retried(status: int, loopback: LoopbackServer, make_fetcher: MakeFetcher) -> None:
    loopback.route("/", b"nope", status=status)
    result = make_fetcher(retries=2).fetch(loopback.url("/"))
    assert result.error_class == "http_4xx" and result.status_code == status
    assert result.attempts == 1 and len(loopback.requests) == 1 and not result.ok


def test_429_honours_short_retry_after(loopback: LoopbackServer, make_fetcher: MakeFetcher) -> None:
    loopback.handler("/", _sequence((429, {"Retry-After": "1"}), (200, {})))
    started = time.monotonic()
    result = make_fetcher(retries=2, max_retry_after_seconds=2).fetch(loopback.url("/"))
    assert result.ok and result.attempts == 2
    assert 0.9 <= time.monotonic() - started < 3
    assert loopback.requests[1].at - loopback.requests[0].at >= 0.9


def test_429_with_long_retry_after_stops(loopback: LoopbackServer, make_fetcher: MakeFetcher) -> None:
    loopback.route("/", b"slow down", status=429, headers={"Retry-After": "2"})
    started = time.monotonic()
    fetcher = make_fetcher(retries=2, max_retry_after_seconds=1, total_timeout=10)
    result = fetcher.fetch(loopback.url("/"))
    assert result.error_class == "http_4xx" and result.status_code == 429
    assert result.retry_after == 2.0 and result.attempts == 1
    assert time.monotonic() - started < 1.5  # honouring it would take 2 s


def test_backoff_is_exponential(loopback: LoopbackServer, make_fetcher: MakeFetcher) -> None:
    loopback.route("/", b"", status=502)
    make_fetcher(retries=2, retry_backoff_seconds=0.1).fetch(loopback.url("/"))
    times = [r.at for r in loopback.requests]
    assert len(times) == 3
    assert times[1] - times[0] >= 0.09 and times[2] - times[1] >= 0.18


def test_parse_retry_after() -> None:
    now = time.time()
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None
    in_a_minute = email.utils.formatdate(now + 60, usegmt=True)
    assert parse_retry_after(in_a_minute, now=now) == pytest.approx(60, abs=1)
    assert parse_retry_after(email.utils.formatdate(now - 60, usegmt=True), now=now) == 0.0


ROBOTS = b"User-agent: otherbot\nDisallow: /\n\nUser-agent: axiswatch\nDisallow: /no-bots\n"
ROBOTS_STAR = b"User-agent: *\nDisallow: /private\n"


def test_robots_txt_is_obeyed_and_fetched_once(loopback: LoopbackServer, make_fetcher: MakeFetcher) -> None:
    loopback.route("/robots.txt", ROBOTS, content_type="text/plain")
    for path in ("/news/1", "/news/2", "/no-bots/x"):
        loopback.route(path, b"page")
    fetcher = make_fetcher()
    urls = [loopback.url(p) for p in ("/news/1", "/no-bots/x", "/news/2")] * 3
    results = fetcher.fetch_many(urls)
    assert [r.error_class for r in results] == [None, "robots", None] * 3
    assert "robots.txt" in (results[1].error_message or "")
    assert _paths(loopback).count("/robots.txt") == 1
    assert "/no-bots/x" not in _paths(loopback)
    assert fetcher.fetch(loopback.url("/no-bots/x")).ok  # feeds and the like do not check


def test_robots_404_allows_and_5xx_disallows(make_fetcher: MakeFetcher) -> None:
    with LoopbackServer() as missing, LoopbackServer() as broken:
        missing.route("/a", b"fine")
        broken.route("/robots.txt", b"oops", status=503)
        broken.route("/a", b"fine")
        fetcher = make_fetcher(retries=0)
        assert fetcher.fetch(missing.url("/a"), check_robots=True).ok
        result = fetcher.fetch(broken.url("/a"), check_robots=True)
        assert result.error_class == "robots" and _paths(broken) == ["/robots.txt"]


def test_obey_robots_setting_off(loopback: LoopbackServer, make_fetcher: MakeFetcher) -> None:
    loopback.route("/robots.txt", ROBOTS_STAR, content_type="text/plain")
    loopback.route("/private/y", b"page")
    assert make_fetcher().fetch(loopback.url("/private/y"), check_robots=True).error_class == "robots"
    assert make_fetcher(obey_robots=False).fetch(loopback.url("/private/y"), check_robots=True).ok
    assert _paths(loopback) == ["/robots.txt", "/private/y"]


def test_fetch_many_keeps_order(loopback: LoopbackServer, make_fetcher: MakeFetcher) -> None:
    def slow(delay: float, body: bytes) -> Callable[[BaseHTTPRequestHandler], None]:
        def handle(request: BaseHTTPRequestHandler) -> None:
            loopback.pause(delay)
            respond(request, 200, body)

        return handle

    for index, delay in enumerate([0.3, 0.2, 0.1, 0.0]):
        loopback.handler(f"/{index}", slow(delay, str(index).encode()))
    fetcher = make_fetcher(fetch_workers=4, host_concurrency=4)
    urls = [loopback.url(f"/{i}") for i in range(4)] + ["ftp://nope/"]
    results = fetcher.fetch_many(urls, check_robots=False)
    assert [r.body for r in results[:4]] == [b"0", b"1", b"2", b"3"]
    assert [r.url for r in results] == urls and results[4].error_class == "bad_url"
    assert fetcher.fetch_many([]) == []


def test_minimum_gap_between_requests_to_a_host(loopback: LoopbackServer, make_fetcher: MakeFetcher) -> None:
    for index in range(4):
        loopback.route(f"/{index}", b"x")
    fetcher = make_fetcher(host_delay_seconds=0.2, fetch_workers=4, host_concurrency=4)
    results = fetcher.fetch_many([loopback.url(f"/{i}") for i in range(4)], check_robots=False)
    assert all(r.ok for r in results)
    times = sorted(r.at for r in loopback.requests)
    assert min(b - a for a, b in itertools.pairwise(times)) >= 0.15


def test_per_host_concurrency_limit(loopback: LoopbackServer, make_fetcher: MakeFetcher) -> None:
    lock, active, peak = threading.Lock(), [0], [0]

    def busy(request: BaseHTTPRequestHandler) -> None:
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        loopback.pause(0.3)
        with lock:
            active[0] -= 1
        respond(request, 200, b"done")

    loopback.handler("/", busy)
    fetcher = make_fetcher(host_concurrency=2, fetch_workers=6)
    results = fetcher.fetch_many([loopback.url("/")] * 6, check_robots=False)
    assert all(r.ok for r in results) and peak[0] == 2
