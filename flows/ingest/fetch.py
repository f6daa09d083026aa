"""The one hardened HTTP client of axiswatch.

Timeouts (connect, read, whole-request deadline), body and decompressed-size caps, manual
redirects with loop detection, an SSRF guard on every hop (see ``flows.ingest.netguard``),
robots.txt (see ``flows.ingest.robots``), per-host politeness, retries with backoff and
Retry-After, and conditional requests.
``Fetcher.fetch`` never raises for network, HTTP or guard problems: it returns a
``FetchResult`` whose ``error_class`` is one of ``ERROR_CLASSES``.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Self

import httpx

from flows.ingest import netguard
from flows.ingest.decompress import decode_stream
from flows.ingest.robots import RobotsCache, robots_text
from flows.settings import Settings

ERROR_CLASSES = (
    "timeout",
    "dns",
    "tls",
    "connect",
    "http_4xx",
    "http_5xx",
    "too_large",
    "too_many_redirects",
    "redirect_loop",
    "blocked",
    "robots",
    "bad_url",
    "decoding",
    "protocol",
)
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
RETRYABLE_CLASSES = frozenset({"timeout", "connect", "protocol"})
ACCEPT_ENCODING = "gzip, deflate, br"
HTML_ACCEPT = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"


class FetchError(Exception):
    """A fetch failed in a way that has an error class (internal; never leaves fetch())."""

    def __init__(self, error_class: str, message: str) -> None:
        super().__init__(message)
        self.error_class = error_class


@dataclass
class FetchResult:
    """Outcome of one fetch: the final response (if any), its body, or a classified error."""

    url: str  # as asked for
    final_url: str  # after redirects (the hop that failed, on error)
    status_code: int | None = None  # of the final response; None when none was received
    headers: dict[str, str] = field(default_factory=dict)  # final response, lower-case keys
    body: bytes = b""  # content-coding removed, at most max_body_bytes; b"" on too_large
    error_class: str | None = None  # one of ERROR_CLASSES; None on 2xx and 304
    error_message: str | None = None  # specific and actionable, names the URL
    elapsed_ms: float = 0.0  # wall time of the whole fetch, waits included
    redirects: list[tuple[int, str]] = field(default_factory=list)  # (status, target) per hop
    permanent_redirect: str | None = None  # final URL when every hop was 301/308 and no error
    retry_after: float | None = None  # seconds, from the final response's Retry-After
    attempts: int = 0  # requests sent for the page: 1 per hop plus retries (0 for bad_url)

    @property
    def ok(self) -> bool:
        """True for a 2xx response fetched without error."""
        code = self.status_code
        return self.error_class is None and code is not None and 200 <= code < 300

    @property
    def not_modified(self) -> bool:
        """True when the server answered 304 to a conditional request."""
        return self.status_code == 304 and self.error_class is None


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date), else None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = datetime.now(UTC).timestamp() if now is None else now
    return max(0.0, when.timestamp() - current)


# --- the client -----------------------------------------------------------------------------


class _Budget:
    """The whole-request deadline of one fetch; politeness waits do not count against it."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.at = time.monotonic() + seconds

    def extend(self, seconds: float) -> None:
        """Push the deadline back (by the time spent waiting at the host gate)."""
        self.at += seconds

    def left(self) -> float:
        """Seconds left before the deadline (negative once it has passed)."""
        return self.at - time.monotonic()


class Fetcher:
    """Thread-safe HTTP client: one per run; ``fetch`` one URL or ``fetch_many`` in a pool."""

    def __init__(self, settings: Settings, *, resolver: netguard.Resolver | None = None) -> None:
        self.settings = settings
        backend = netguard.GuardedBackend(settings.allow_hosts, resolver=resolver)
        size = max(16, 2 * settings.fetch_workers)
        limits = httpx.Limits(max_connections=size, max_keepalive_connections=size)
        self._client = httpx.Client(
            transport=netguard.GuardedTransport(backend, limits),
            timeout=httpx.Timeout(
                connect=settings.connect_timeout,
                read=settings.read_timeout,
                write=settings.read_timeout,
                pool=settings.total_timeout,
            ),
            headers={"User-Agent": settings.user_agent, "Accept-Encoding": ACCEPT_ENCODING},
            follow_redirects=False,
            trust_env=False,
        )
        self._gate = netguard.HostGate(settings.host_concurrency, settings.host_delay_seconds)
        self._robots = RobotsCache(settings.user_agent, self._robots_text)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close all pooled connections."""
        self._client.close()

    def _robots_text(self, robots_url: str) -> str:
        """Request one robots.txt (redirects and guard as for any page) and say what to obey."""
        result = self.fetch(robots_url, accept="text/plain, */*")
        return robots_text(result.status_code, result.error_class, result.body)

    def fetch(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        accept: str = "*/*",
        check_robots: bool = False,
    ) -> FetchResult:
        """Fetch ``url`` (GET), following redirects; never raises for network/HTTP problems."""
        started = time.monotonic()
        result = FetchResult(url=url, final_url=url)
        headers = {"Accept": accept}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        try:
            self._follow(result, headers, check_robots, _Budget(self.settings.total_timeout))
        except FetchError as exc:
            result.error_class, result.error_message = exc.error_class, str(exc)
        result.elapsed_ms = (time.monotonic() - started) * 1000.0
        hops = result.redirects
        if hops and result.error_class is None and all(code in (301, 308) for code, _ in hops):
            result.permanent_redirect = result.final_url
        return result

    def fetch_many(
        self, urls: Sequence[str], *, check_robots: bool = True, accept: str = HTML_ACCEPT
    ) -> list[FetchResult]:
        """Fetch many URLs on ``fetch_workers`` threads; results are in the order of ``urls``."""
        if not urls:
            return []
        workers = max(1, min(self.settings.fetch_workers, len(urls)))
        with ThreadPoolExecutor(workers, thread_name_prefix="axiswatch-fetch") as pool:
            return list(pool.map(lambda u: self.fetch(u, accept=accept, check_robots=check_robots), urls))

    def _follow(
        self, result: FetchResult, headers: dict[str, str], check_robots: bool, budget: _Budget
    ) -> None:
        """Request each hop (robots, retries) until a non-redirect answer or a redirect error."""
        current = _parse_url(result.url)
        seen = {str(current)}
        while True:
            result.final_url = str(current)
            if check_robots and self.settings.obey_robots and not self._robots.allowed(current):
                raise FetchError("robots", f"{current} is disallowed by its robots.txt for us")
            self._with_retries(result, current, headers, budget)
            location = result.headers.get("location")
            if result.status_code not in REDIRECT_STATUSES or location is None:
                return
            try:
                target = _parse_url(str(current.join(location)))
            except (httpx.InvalidURL, FetchError) as exc:
                raise FetchError("bad_url", f"{current} redirects to {location!r}: {exc}") from exc
            result.redirects.append((result.status_code, str(target)))
            if str(target) in seen:
                raise FetchError("redirect_loop", f"redirect loop: {current} -> {target}")
            if len(result.redirects) > self.settings.max_redirects:
                limit = self.settings.max_redirects
                raise FetchError("too_many_redirects", f"more than {limit} redirects from {result.url}")
            seen.add(str(target))
            current = target

    def _with_retries(
        self, result: FetchResult, url: httpx.URL, headers: dict[str, str], budget: _Budget
    ) -> None:
        """One hop with retries and exponential backoff (network errors, 5xx, 429)."""
        for attempt in range(self.settings.retries + 1):
            result.attempts += 1
            failure: FetchError | None = None
            try:
                self._exchange(result, url, headers, budget)
            except FetchError as exc:
                failure = exc
            wait = self._retry_wait(result, failure, attempt, budget)
            if wait is None:
                break
            time.sleep(wait)
        if failure is not None:
            raise failure

    def _retry_wait(
        self, result: FetchResult, failure: FetchError | None, attempt: int, budget: _Budget
    ) -> float | None:
        """Seconds to wait before the next attempt, or None when we should not retry."""
        if failure is not None:
            retryable = failure.error_class in RETRYABLE_CLASSES and budget.left() > 0
        else:
            code = result.status_code or 0
            retryable = code == 429 or code >= 500
        if not retryable or attempt >= self.settings.retries:
            return None
        asked = result.retry_after if failure is None else None
        if asked is not None and asked > self.settings.max_retry_after_seconds:
            return None
        wait = max(self.settings.retry_backoff_seconds * 2**attempt, asked or 0.0)
        return wait if wait < budget.left() else None

    def _exchange(
        self, result: FetchResult, url: httpx.URL, headers: dict[str, str], budget: _Budget
    ) -> None:
        """Send one GET through the host gate and record its response in ``result``."""
        result.status_code, result.headers, result.body = None, {}, b""
        result.error_class = result.error_message = None
        result.retry_after = None
        host = url.host
        budget.extend(self._gate.acquire(host))
        try:
            with netguard.deadline(budget.at):
                request = self._client.build_request("GET", url, headers=headers)
                response = self._client.send(request, stream=True)
                try:
                    self._record(result, response, budget)
                finally:
                    response.close()
        except netguard.NETWORK_ERRORS as exc:
            error_class, message = netguard.classify_error(exc)
            if error_class == "timeout" and budget.left() <= 0:
                message = f"total deadline of {budget.seconds:g}s exceeded"
            raise FetchError(error_class, f"{message} ({url})") from exc
        finally:
            self._gate.release(host)

    def _record(self, result: FetchResult, response: httpx.Response, budget: _Budget) -> None:
        """Copy status and headers, read the body when it matters, classify HTTP errors."""
        code = result.status_code = response.status_code
        result.headers = {k.lower(): v for k, v in response.headers.items()}
        result.retry_after = parse_retry_after(result.headers.get("retry-after"))
        if code == 304 or (code in REDIRECT_STATUSES and "location" in result.headers):
            return
        if code < 300:
            result.body = self._read_body(response, budget)
            return
        try:  # an error page is kept when it is small and readable, never fatal otherwise
            result.body = self._read_body(response, budget)
        except FetchError as exc:
            if exc.error_class == "timeout":
                raise
        result.error_class = "protocol" if code < 400 else "http_4xx" if code < 500 else "http_5xx"
        problem = " without a usable Location header" if code < 400 else ""
        result.error_message = f"HTTP {code} {response.reason_phrase}{problem} from {response.url}"

    def _read_body(self, response: httpx.Response, budget: _Budget) -> bytes:
        """Stream and decode the body, enforcing the size cap (raw and decoded) and deadline."""
        cap = self.settings.max_body_bytes
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > cap:
            raise FetchError("too_large", f"Content-Length {declared} exceeds max_body_bytes={cap}")
        body = bytearray()
        encoding = response.headers.get("content-encoding", "")
        for piece in decode_stream(encoding, _raw_pieces(response, cap, budget)):
            if len(body) + len(piece) > cap:
                raise FetchError("too_large", f"decoded body exceeds max_body_bytes={cap}")
            body += piece
        return bytes(body)


def _raw_pieces(response: httpx.Response, cap: int, budget: _Budget) -> Iterator[bytes]:
    """Raw (still encoded) body chunks, failing past the cap or the deadline."""
    total = 0
    for chunk in response.iter_raw():
        total += len(chunk)
        if total > cap:
            raise FetchError("too_large", f"body exceeds max_body_bytes={cap}")
        if budget.left() <= 0:
            raise FetchError("timeout", f"total deadline of {budget.seconds:g}s exceeded")
        yield chunk


def _parse_url(text: str) -> httpx.URL:
    """Parse an absolute http(s) URL (fragment dropped) or raise a bad_url FetchError."""
    try:
        url = httpx.URL(text)
    except httpx.InvalidURL as exc:
        raise FetchError("bad_url", f"invalid URL {text!r}: {exc}") from exc
    if url.scheme not in ("http", "https"):
        raise FetchError("bad_url", f"refusing {text!r}: only http and https URLs are fetched")
    if not url.host:
        raise FetchError("bad_url", f"invalid URL {text!r}: no host")
    return url.copy_with(fragment=None)
