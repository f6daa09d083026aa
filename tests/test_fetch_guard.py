"""SSRF guard, URL checks and network error classification of flows.ingest.fetch / flows.ingest.netguard.

Only servers started here on loopback are contacted; other addresses below are data for the
classifier or answers of a fake resolver and are never connected to.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from typing import Any

import httpcore
import pytest

from flows.ingest import netguard
from flows.ingest.fetch import Fetcher
from flows.tools.loopback import LoopbackServer, respond

MakeFetcher = Callable[..., Fetcher]


def _resolver(table: dict[str, list[str]]) -> netguard.Resolver:
    """A getaddrinfo stand-in answering from ``table`` (gaierror for unknown names)."""

    def resolve(host: str, port: int, *args: Any, **kwargs: Any) -> list[tuple[Any, ...]]:
        if host not in table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [
            (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
            for a in table[host]
        ]

    return resolve


def test_allow_listed_loopback_host_is_fetched(loopback: LoopbackServer, make_fetcher: MakeFetcher) -> None:
    loopback.route("/", b"hello")
    result = make_fetcher().fetch(loopback.url("/"))
    assert result.ok and result.body == b"hello"


def test_loopback_is_blocked_without_allow_list(loopback: LoopbackServer, make_fetcher: MakeFetcher) -> None:
    loopback.route("/", b"hello")
    result = make_fetcher(allow_hosts=()).fetch(loopback.url("/"))
    assert result.error_class == "blocked" and not result.ok
    assert "127.0.0.1" in (result.error_message or "") and "loopback" in (result.error_message or "")
    assert loopback.requests == []


def test_other_loopback_address_is_blocked(make_fetcher: MakeFetcher) -> None:
    with LoopbackServer(host="127.0.0.2") as other:
        other.route("/", b"secret")
        result = make_fetcher().fetch(other.url("/"))
        assert result.error_class == "blocked" and result.body == b""
        assert "127.0.0.2" in (result.error_message or "")
        assert other.requests == []
        assert result.attempts == 1  # a refusal is not retried
        assert make_fetcher(allow_hosts=("127.0.0.2",)).fetch(other.url("/")).body == b"secret"


def test_ipv6_loopback_is_blocked_unless_allow_listed(make_fetcher: MakeFetcher) -> None:
    with LoopbackServer(host="::1") as v6:
        v6.route("/", b"six")
        result = make_fetcher().fetch(v6.url("/"))
        assert result.error_class == "blocked" and "::1" in (result.error_message or "")
        assert v6.requests == []
        assert make_fetcher(allow_hosts=("[::1]",)).fetch(v6.url("/")).body == b"six"


def test_redirect_to_blocked_address_is_refused_at_the_hop(
    loopback: LoopbackServer, make_fetcher: MakeFetcher
) -> None:
    with LoopbackServer(host="127.0.0.2") as other:
        other.route("/inner", b"secret")
        loopback.route("/go", b"", status=302, headers={"Location": other.url("/inner")})
        result = make_fetcher().fetch(loopback.url("/go"))
        assert result.error_class == "blocked"
        assert result.redirects == [(302, other.url("/inner"))]
        assert result.final_url == other.url("/inner")
        assert other.requests == []


@pytest.mark.parametrize(
    "url",
    ["ftp://127.0.0.1/x", "file:///etc/passwd", "javascript:alert(1)", "not a url", "http:///path", ""],
)
def test_non_http_urls_are_bad_url(url: str, make_fetcher: MakeFetcher) -> None:
    result = make_fetcher().fetch(url)
    assert result.error_class == "bad_url" and result.status_code is None and result.attempts == 0


def test_redirect_to_other_scheme_is_bad_url(loopback: LoopbackServer, make_fetcher: MakeFetcher) -> None:
    loopback.route("/go", b"", status=301, headers={"Location": "file:///etc/passwd"})
    result = make_fetcher().fetch(loopback.url("/go"))
    assert result.error_class == "bad_url" and "file:///etc/passwd" in (result.error_message or "")


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "link-local"),
        ("100.64.0.1", "carrier-grade NAT"),
        ("0.0.0.0", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("240.0.0.1", "private"),
        ("255.255.255.255", "private"),
        ("::1", "loopback"),
        ("::", "unspecified"),
        ("fe80::1", "link-local"),
        ("fd12:3456::1", "unique-local"),
        ("ff02::1", "multicast"),
        ("::ffff:127.0.0.1", "embeds 127.0.0.1"),
        ("::ffff:10.0.0.1", "embeds 10.0.0.1"),
        ("64:ff9b::a00:1", "embeds 10.0.0.1"),
        ("2002:a00:1::", "embeds 10.0.0.1"),
        ("2001:db8::1", "private"),
    ],
)
def test_address_classifier_refuses(address: str, reason: str) -> None:
    problem = netguard.address_problem(address)
    assert problem is not None and reason in problem


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111", "1.1.1.1"])
def test_address_classifier_accepts_public_unicast(address: str) -> None:
    assert netguard.address_problem(address) is None


class _RecordingBackend(httpcore.NetworkBackend):
    """Inner backend that records connect calls instead of connecting."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, int]] = []

    def connect_tcp(self, host: str, port: int, *args: Any, **kwargs: Any) -> httpcore.NetworkStream:
        self.calls.append((host, port))
        return httpcore.NetworkStream()


def test_backend_refuses_when_any_address_is_bad_and_pins_checked_ip() -> None:
    inner = _RecordingBackend()
    table = {"mixed.test": ["93.184.216.34", "10.0.0.7"], "public.test": ["93.184.216.34"]}
    backend = netguard.GuardedBackend((), resolver=_resolver(table), inner=inner)
    with pytest.raises(netguard.BlockedAddressError, match=r"mixed\.test.*10\.0\.0\.7"):
        backend.connect_tcp("mixed.test", 80)
    assert inner.calls == []
    backend.connect_tcp("public.test", 443)
    assert inner.calls == [("93.184.216.34", 443)]  # the checked address, not the name


def test_allow_listed_name_connects_to_resolved_address(
    loopback: LoopbackServer, make_fetcher: MakeFetcher
) -> None:
    loopback.route("/", b"named")
    resolver = _resolver({"news.example.test": ["127.0.0.1"]})
    url = f"http://News.Example.test:{loopback.port}/"
    assert make_fetcher(resolver=resolver).fetch(url).error_class == "blocked"
    result = make_fetcher(resolver=resolver, allow_hosts=("news.example.TEST",)).fetch(url)
    assert result.ok and result.body == b"named"
    assert loopback.requests[-1].headers["host"] == f"news.example.test:{loopback.port}"


def test_dns_failure_is_classified_and_not_retried(make_fetcher: MakeFetcher) -> None:
    fetcher = make_fetcher(resolver=_resolver({}), allow_hosts=("nowhere.test",))
    result = fetcher.fetch("http://nowhere.test/")
    assert result.error_class == "dns" and result.attempts == 1


def test_tls_error_is_classified(loopback: LoopbackServer, make_fetcher: MakeFetcher) -> None:
    loopback.route("/", b"plain http")
    result = make_fetcher(retries=0).fetch(f"https://127.0.0.1:{loopback.port}/")
    assert result.error_class == "tls"


def test_connection_refused_is_connect_and_retried(make_fetcher: MakeFetcher) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = make_fetcher(retries=2).fetch(f"http://127.0.0.1:{port}/")
    assert result.error_class == "connect" and result.attempts == 3


def test_garbage_response_is_protocol_error(loopback: LoopbackServer, make_fetcher: MakeFetcher) -> None:
    def garbage(request: BaseHTTPRequestHandler) -> None:
        request.wfile.write(b"SPAM SPAM SPAM\r\n\r\n")
        request.close_connection = True

    loopback.handler("/", garbage)
    result = make_fetcher(retries=0).fetch(loopback.url("/"))
    assert result.error_class == "protocol" and result.status_code is None


def test_user_agent_on_every_request(loopback: LoopbackServer, make_fetcher: MakeFetcher) -> None:
    loopback.route("/robots.txt", b"User-agent: *\nAllow: /\n", content_type="text/plain")
    loopback.route("/a", b"", status=302, headers={"Location": "/b"})
    loopback.handler("/b", lambda request: respond(request, 200, b"ok"))
    fetcher = make_fetcher(user_agent="axiswatch-test/9 (+mailto:test@example.org)")
    assert fetcher.fetch(loopback.url("/a"), check_robots=True).ok
    assert [r.path for r in loopback.requests] == ["/robots.txt", "/a", "/b"]
    assert {r.headers["user-agent"] for r in loopback.requests} == {fetcher.settings.user_agent}


def test_connect_timeout(make_fetcher: MakeFetcher) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)  # never accepted: once the queue is full, new SYNs are dropped
        port = listener.getsockname()[1]
        fillers = [socket.socket() for _ in range(3)]
        try:
            for filler in fillers:
                filler.setblocking(False)
                filler.connect_ex(("127.0.0.1", port))
            started = time.monotonic()
            result = make_fetcher(connect_timeout=0.3, retries=1).fetch(f"http://127.0.0.1:{port}/")
            assert result.error_class == "timeout" and "ConnectTimeout" in (result.error_message or "")
            assert result.attempts == 2 and time.monotonic() - started < 3
        finally:
            for filler in fillers:
                filler.close()
