"""Body handling of flows.ingest.fetch: size caps, bounded decompression, read timeout and deadline."""

from __future__ import annotations

import gzip
import time
import tracemalloc
import zlib
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler

import brotli
import pytest

from flows.ingest.fetch import Fetcher
from flows.tools.loopback import LoopbackServer

MakeFetcher = Callable[..., Fetcher]
TEXT = ("<p>Seoul, Washington and Beijing.</p>\n" * 200).encode()
BOMB_SIZE = 64 * 1024 * 1024


def _stream_forever(server: LoopbackServer, chunk: bytes, interval: float, limit: int) -> Callable[..., None]:
    """Handler: headers without a length, then ``chunk`` every ``interval`` s (at most ``limit``)."""

    def handle(request: BaseHTTPRequestHandler) -> None:
        request.send_response(200)
        request.send_header("Connection", "close")
        request.end_headers()
        for _ in range(limit):
            if not server.pause(interval):
                return
            request.wfile.write(chunk)
            request.wfile.flush()

    return handle


def _deflate(data: bytes, wbits: int) -> bytes:
    """Compress with zlib using ``wbits`` (31 gzip, 15 zlib, -15 raw deflate)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, wbits)
    return compressor.compress(data) + compressor.flush()


@pytest.mark.parametrize(
    ("encoding", "payload"),
    [
        ("gzip", gzip.compress(TEXT)),
        ("x-gzip", gzip.compress(TEXT)),
        ("gzip", gzip.compress(TEXT[:100]) + gzip.compress(TEXT[100:])),  # two members
        ("deflate", _deflate(TEXT, 15)),
        ("deflate", _deflate(TEXT, -15)),  # raw deflate, as some servers send
        ("br", brotli.compress(TEXT)),
        ("gzip, br", brotli.compress(gzip.compress(TEXT))),
        ("identity", TEXT),
    ],
)
def test_content_codings_are_decoded(
    encoding: str, payload: bytes, loopback: LoopbackServer, make_fetcher: MakeFetcher
) -> None:
    loopback.route("/", payload, headers={"Content-Encoding": encoding})
    result = make_fetcher().fetch(loopback.url("/"))
    assert result.ok and result.body == TEXT
    assert loopback.requests[0].headers["accept-encoding"] == "gzip, deflate, br"


@pytest.mark.parametrize(
    ("encoding", "payload"),
    [("zstd", b"\x28\xb5\x2f\xfd whatever"), ("gzip", b"\x1f\x8b not really gzip"), ("br", b"\xff" * 64)],
)
def test_undecodable_bodies_are_decoding_errors(
    encoding: str, payload: bytes, loopback: LoopbackServer, make_fetcher: MakeFetcher
) -> None:
    loopback.route("/", payload, headers={"Content-Encoding": encoding})
    result = make_fetcher().fetch(loopback.url("/"))
    assert result.error_class == "decoding" and result.attempts == 1
    assert encoding not in ("zstd",) or "zstd" in (result.error_message or "")


def test_endless_body_stops_at_the_cap(loopback: LoopbackServer, make_fetcher: MakeFetcher) -> None:
    loopback.handler("/", _stream_forever(loopback, b"x" * 65536, 0.0, 100_000))
    started = time.monotonic()
    result = make_fetcher(max_body_bytes=300_000).fetch(loopback.url("/"))
    assert result.error_class == "too_large" and len(result.body) <= 300_000
    assert time.monotonic() - started < 5  # an uncapped read would never end


def test_declared_length_over_the_cap_is_refused(loopback: LoopbackServer, make_fetcher: MakeFetcher) -> None:
    loopback.route("/big", b"y" * 20_001)
    loopback.route("/fits", b"y" * 20_000)
    fetcher = make_fetcher(max_body_bytes=20_000)
    assert fetcher.fetch(loopback.url("/big")).error_class == "too_large"
    assert fetcher.fetch(loopback.url("/fits")).body == b"y" * 20_000


@pytest.mark.parametrize(
    ("encoding", "compress"),
    [
        ("gzip", lambda data: _deflate(data, 31)),
        ("deflate", lambda data: _deflate(data, -15)),
        ("br", lambda data: brotli.compress(data, quality=1)),
    ],
)
def test_compression_bomb_never_materialises(
    encoding: str, compress: Callable[[bytes], bytes], loopback: LoopbackServer, make_fetcher: MakeFetcher
) -> None:
    bomb = compress(bytes(BOMB_SIZE))
    assert len(bomb) < 100_000
    loopback.route("/", bomb, headers={"Content-Encoding": encoding})
    fetcher = make_fetcher(max_body_bytes=1_000_000)
    tracemalloc.start()
    try:
        result = fetcher.fetch(loopback.url("/"))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert result.error_class == "too_large" and result.body == b""
    assert peak < 8 * 1024 * 1024


def test_read_timeout(loopback: LoopbackServer, make_fetcher: MakeFetcher) -> None:
    def slow(request: BaseHTTPRequestHandler) -> None:
        if loopback.pause(3):
            request.send_response(200)
            request.end_headers()

    loopback.handler("/", slow)
    started = time.monotonic()
    result = make_fetcher(read_timeout=0.2, retries=1, total_timeout=5).fetch(loopback.url("/"))
    assert result.error_class == "timeout" and result.attempts == 2
    assert time.monotonic() - started < 2.5  # each attempt would otherwise wait 3 s


def test_dripping_body_cannot_outlast_the_deadline(
    loopback: LoopbackServer, make_fetcher: MakeFetcher
) -> None:
    loopback.handler("/", _stream_forever(loopback, b"z", 0.05, 200))  # would take 10 s
    started = time.monotonic()
    result = make_fetcher(read_timeout=0.5, total_timeout=0.6).fetch(loopback.url("/"))
    elapsed = time.monotonic() - started
    assert result.error_class == "timeout" and "deadline" in (result.error_message or "")
    assert result.attempts == 1  # the whole-request deadline is not retried
    assert elapsed < 3  # the drip lasts 10 s


def test_dripping_headers_cannot_outlast_the_deadline(
    loopback: LoopbackServer, make_fetcher: MakeFetcher
) -> None:
    def drip_headers(request: BaseHTTPRequestHandler) -> None:
        request.wfile.write(b"HTTP/1.1 200 OK\r\n")
        for _ in range(200):
            if not loopback.pause(0.05):
                return
            request.wfile.write(b"X-Slow: 1\r\n")
            request.wfile.flush()

    loopback.handler("/", drip_headers)
    started = time.monotonic()
    result = make_fetcher(read_timeout=0.5, total_timeout=0.6).fetch(loopback.url("/"))
    assert result.error_class == "timeout" and "deadline" in (result.error_message or "")
    assert time.monotonic() - started < 3  # the drip lasts 10 s
