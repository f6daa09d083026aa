"""SSRF guard for the one HTTP client: an httpcore network backend that vets every connection.

Every TCP connection resolves the host itself, refuses it when any resolved address is not a
public unicast address (unless the exact URL host is allow-listed), then connects to the very
address it checked, so a DNS answer cannot change between the check and the connect.
Streams it returns also enforce a per-thread deadline on every read, write and TLS handshake.
``HostGate`` keeps us polite (per-host concurrency and spacing); ``classify_error`` maps what
the network stack raises to axiswatch's error classes.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import ssl
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import brotli
import httpcore
import httpx

from flows.ingest.decompress import DecodingError

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[..., list[tuple[Any, ...]]]

_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_ULA = ipaddress.ip_network("fc00::/7")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_local = threading.local()


class BlockedAddressError(Exception):
    """A connection was refused because the host resolves to a non-public address."""

    def __init__(self, host: str, address: str, reason: str) -> None:
        self.host, self.address, self.reason = host, address, reason
        super().__init__(
            f"refused to connect to {host!r}: it resolves to {address} ({reason}); "
            "add the exact host to allow_hosts (AXISWATCH_ALLOW_HOSTS) to permit it"
        )


def _embedded_ipv4(addr: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address carried inside an IPv4-mapped, 6to4 or NAT64 IPv6 address, if any."""
    if addr.ipv4_mapped is not None:
        return addr.ipv4_mapped
    if addr.sixtofour is not None:
        return addr.sixtofour
    if addr in _NAT64:
        return ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF)
    return None


def address_problem(address: str) -> str | None:
    """Why ``address`` (an IP literal) must not be contacted, or None if it is public unicast."""
    try:
        addr: Address = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return "not an IP address"
    if isinstance(addr, ipaddress.IPv6Address):
        inner = _embedded_ipv4(addr)
        if inner is not None:
            problem = address_problem(str(inner))
            if problem is not None:
                return f"embeds {inner}, {problem}"
        if addr in _ULA:
            return "IPv6 unique-local"
        if addr.is_site_local:
            return "IPv6 site-local"
    checks = (
        ("unspecified", addr.is_unspecified),
        ("loopback", addr.is_loopback),
        ("link-local", addr.is_link_local),
        ("multicast", addr.is_multicast),
        ("carrier-grade NAT", addr in _CGNAT),
        ("private", addr.is_private),
        ("reserved", addr.is_reserved),
        ("not globally routable", not addr.is_global),
    )
    return next((name for name, hit in checks if hit), None)


def host_key(host: str) -> str:
    """Normalise a URL host for allow-list comparison: lower case, IPv6 brackets removed."""
    host = host.strip().lower()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host


@contextlib.contextmanager
def deadline(at: float | None) -> Iterator[None]:
    """Bound all network I/O of this thread by the monotonic time ``at`` while in the block."""
    previous = getattr(_local, "deadline", None)
    _local.deadline = at
    try:
        yield
    finally:
        _local.deadline = previous


def _bounded(timeout: float | None, kind: type[Exception]) -> float | None:
    """The smaller of ``timeout`` and the time left before this thread's deadline."""
    at: float | None = getattr(_local, "deadline", None)
    if at is None:
        return timeout
    left = at - time.monotonic()
    if left <= 0:
        raise kind("total deadline exceeded")
    return left if timeout is None else min(timeout, left)


class GuardedStream(httpcore.NetworkStream):
    """A network stream whose every operation respects the thread's deadline."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        """Read up to ``max_bytes``, bounded by the deadline."""
        return self._inner.read(max_bytes, _bounded(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        """Write ``buffer``, bounded by the deadline."""
        self._inner.write(buffer, _bounded(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        """Close the underlying stream."""
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        """Upgrade to TLS (SNI and certificate check use the URL host, not the pinned IP)."""
        bounded = _bounded(timeout, httpcore.ConnectTimeout)
        return GuardedStream(self._inner.start_tls(ssl_context, server_hostname, bounded))

    def get_extra_info(self, info: str) -> Any:
        """Delegate extra info (socket, ssl object, readability) to the inner stream."""
        return self._inner.get_extra_info(info)


class GuardedBackend(httpcore.NetworkBackend):
    """httpcore backend that resolves, vets and pins the address of every connection."""

    def __init__(
        self,
        allow_hosts: Iterable[str] = (),
        *,
        resolver: Resolver | None = None,
        inner: httpcore.NetworkBackend | None = None,
    ) -> None:
        self.allow_hosts = frozenset(host_key(h) for h in allow_hosts)
        self._resolve = resolver or socket.getaddrinfo
        self._inner = inner or httpcore.SyncBackend()

    def checked_addresses(self, host: str, port: int) -> list[str]:
        """Resolve ``host`` and return its addresses, raising if any of them is refused."""
        try:
            infos = self._resolve(host, port, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise httpcore.ConnectError(f"cannot resolve {host!r}: {exc}") from exc
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        if not addresses:
            raise httpcore.ConnectError(f"cannot resolve {host!r}: no addresses")
        if host_key(host) not in self.allow_hosts:
            for address in addresses:
                problem = address_problem(address)
                if problem is not None:
                    raise BlockedAddressError(host, address, problem)
        return addresses

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        """Connect to the first reachable vetted address of ``host``."""
        error: Exception | None = None
        for address in self.checked_addresses(host, port):
            bounded = _bounded(timeout, httpcore.ConnectTimeout)
            try:
                stream = self._inner.connect_tcp(address, port, bounded, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
                continue
            return GuardedStream(stream)
        assert error is not None
        raise error

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        """Unix sockets are never used by axiswatch; refuse them."""
        raise BlockedAddressError(path, path, "unix sockets are not allowed")

    def sleep(self, seconds: float) -> None:
        """Sleep (used by httpcore between its own retries)."""
        time.sleep(seconds)


class GuardedTransport(httpx.HTTPTransport):
    """httpx transport whose connection pool connects only through a GuardedBackend."""

    def __init__(self, backend: GuardedBackend, limits: httpx.Limits) -> None:
        # Not calling HTTPTransport.__init__: it would only build a default pool we replace.
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=backend,
        )


class HostGate:
    """Per-host concurrency limit and minimum gap between request starts, across threads."""

    def __init__(self, concurrency: int, delay: float) -> None:
        self._concurrency, self._delay = max(1, concurrency), max(0.0, delay)
        self._lock = threading.Lock()
        self._slots: dict[str, threading.BoundedSemaphore] = {}
        self._next: dict[str, float] = {}

    def acquire(self, host: str) -> float:
        """Wait for a slot and the host's gap; return the seconds spent waiting."""
        start = time.monotonic()
        with self._lock:
            slot = self._slots.setdefault(host, threading.BoundedSemaphore(self._concurrency))
        slot.acquire()
        with self._lock:
            at = max(time.monotonic(), self._next.get(host, 0.0))
            self._next[host] = at + self._delay
        time.sleep(max(0.0, at - time.monotonic()))
        return time.monotonic() - start

    def release(self, host: str) -> None:
        """Give back the host's slot."""
        self._slots[host].release()


NETWORK_ERRORS: tuple[type[BaseException], ...] = (
    httpx.HTTPError,
    httpx.InvalidURL,
    OSError,
    BlockedAddressError,
    DecodingError,
    zlib.error,
    brotli.error,
)
_KINDS: tuple[tuple[str, tuple[type[BaseException], ...]], ...] = (
    ("blocked", (BlockedAddressError,)),
    ("timeout", (httpx.TimeoutException, httpcore.TimeoutException, TimeoutError)),
    ("dns", (socket.gaierror,)),
    ("tls", (ssl.SSLError,)),
    ("decoding", (DecodingError, zlib.error, brotli.error, httpx.DecodingError)),
    ("bad_url", (httpx.InvalidURL, httpx.UnsupportedProtocol)),
    ("protocol", (httpx.ProtocolError, httpcore.ProtocolError)),
    ("connect", (httpx.NetworkError, httpcore.NetworkError, OSError)),
)


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and its chain of causes/contexts."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def classify_error(exc: BaseException) -> tuple[str, str]:
    """Error class and message for one of NETWORK_ERRORS (first matching kind in the chain)."""
    chain = list(_causes(exc))
    for name, types in _KINDS:
        hit = next((e for e in chain if isinstance(e, types)), None)
        if hit is not None:
            if name == "blocked":
                return name, str(hit)
            return name, f"{type(exc).__name__}: {exc}"
    return "protocol", f"{type(exc).__name__}: {exc}"
