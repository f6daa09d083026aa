"""The loopback test server: routing, conditional answers, records, clean and fast stop."""

from __future__ import annotations

import http.client
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler

from flows.tools.loopback import LoopbackServer, respond


def _get(
    server: LoopbackServer, path: str, method: str = "GET", **headers: str
) -> tuple[int, dict[str, str], bytes]:
    """Plain http.client request (independent of flows.ingest.fetch)."""
    conn = http.client.HTTPConnection(server.host, server.port, timeout=5)
    try:
        conn.request(method, path, headers=headers)
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def test_unknown_path_is_404_and_requests_are_recorded(loopback: LoopbackServer) -> None:
    status, _, body = _get(loopback, "/missing?x=1", **{"X-Probe": "yes"})
    assert status == 404 and body
    [request] = loopback.requests
    assert (request.method, request.path, request.headers["x-probe"]) == ("GET", "/missing?x=1", "yes")


def test_query_route_wins_over_path_route(loopback: LoopbackServer) -> None:
    loopback.route("/page", b"plain")
    loopback.route("/page?id=2", b"second")
    assert _get(loopback, "/page?id=2")[2] == b"second"
    assert _get(loopback, "/page?id=3")[2] == b"plain"
    assert _get(loopback, "/page")[2] == b"plain"


def test_static_route_status_headers_and_head(loopback: LoopbackServer) -> None:
    loopback.route("/gone", b"bye", status=410, headers={"X-Extra": "1"}, content_type="text/plain")
    status, headers, body = _get(loopback, "/gone")
    assert (status, body, headers["x-extra"], headers["content-type"]) == (410, b"bye", "1", "text/plain")
    status, headers, body = _get(loopback, "/gone", method="HEAD")
    assert (status, body, headers["content-length"]) == (410, b"", "3")


def test_conditional_route_answers_304(loopback: LoopbackServer) -> None:
    loopback.route("/feed", b"<rss/>")
    _, headers, _ = _get(loopback, "/feed")
    etag, modified = headers["etag"], headers["last-modified"]
    assert _get(loopback, "/feed", **{"If-None-Match": etag})[0] == 304
    assert _get(loopback, "/feed", **{"If-None-Match": '"other"'})[0] == 200
    assert _get(loopback, "/feed", **{"If-Modified-Since": modified})[0] == 304
    assert _get(loopback, "/feed", **{"If-Modified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"})[0] == 200
    loopback.route("/plain", b"x", conditional=False)
    _, headers, _ = _get(loopback, "/plain")
    assert "etag" not in headers
    assert _get(loopback, "/plain", **{"If-None-Match": "*"})[0] == 200


def test_handler_and_clear(loopback: LoopbackServer) -> None:
    def teapot(request: BaseHTTPRequestHandler) -> None:
        respond(request, 418, b"short and stout", {"Content-Type": "text/plain"})

    loopback.handler("/tea", teapot)
    assert _get(loopback, "/tea")[:3:2] == (418, b"short and stout")
    loopback.clear()
    assert loopback.requests == []
    assert _get(loopback, "/tea")[0] == 404


def test_ipv6_base_url() -> None:
    with LoopbackServer(host="::1") as server:
        assert server.base_url == f"http://[::1]:{server.port}"
        assert server.url("x") == server.base_url + "/x"
        server.route("/", b"v6")
        assert _get(server, "/")[2] == b"v6"


def test_stop_is_fast_and_ends_dripping_and_idle_connections() -> None:
    server = LoopbackServer().start()
    entered = threading.Event()

    def drip(request: BaseHTTPRequestHandler) -> None:
        request.send_response(200)
        request.send_header("Connection", "close")
        request.end_headers()
        entered.set()
        while server.pause(0.05):
            request.wfile.write(b".")
            request.wfile.flush()

    server.handler("/drip", drip)
    idle = socket.create_connection((server.host, server.port))  # keep-alive connection, no request
    dripping = socket.create_connection((server.host, server.port))
    dripping.sendall(b"GET /drip HTTP/1.1\r\nHost: x\r\n\r\n")
    assert entered.wait(5)
    started = time.monotonic()
    server.stop()
    assert time.monotonic() - started < 3  # without hanging up, each join would time out
    assert server.open_connections == 0
    idle.close()
    dripping.close()
    server.stop()  # idempotent


def test_responses_on_a_kept_alive_connection_do_not_wait_for_delayed_acks(loopback: LoopbackServer) -> None:
    """With Nagle's algorithm on, each response's body waited about 40 ms for the client's delayed
    ACK of its headers (20 requests took 0.9 s); real servers answer at once, and so must the twin."""
    loopback.route("/page", b"x" * 20_000)
    conn = http.client.HTTPConnection(loopback.host, loopback.port, timeout=5)
    try:
        conn.request("GET", "/page")
        conn.getresponse().read()
        started = time.perf_counter()
        for _ in range(20):
            conn.request("GET", "/page")
            assert len(conn.getresponse().read()) == 20_000
        elapsed = time.perf_counter() - started
    finally:
        conn.close()
    assert elapsed < 0.4, f"20 responses took {elapsed:.2f} s"
