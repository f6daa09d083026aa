"""A threaded HTTP/1.1 server on a loopback address, for tests and the demo.

Static routes (optionally answering conditional requests with 304), custom handlers for odd
behaviour (drips, endless bodies, garbage), a record of every request, and a fast, clean stop:
open connections are shut down and handler threads joined, so nothing lingers after ``stop``.
"""

from __future__ import annotations

import contextlib
import email.utils
import hashlib
import socket
import socketserver
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, NamedTuple, Self

Handler = Callable[[BaseHTTPRequestHandler], None]
_JOIN_SECONDS = 2.0


class RecordedRequest(NamedTuple):
    """One request the server received: method, path with query, lower-case headers, time."""

    method: str
    path: str
    headers: dict[str, str]
    at: float  # time.monotonic() when the request line and headers had been read


@dataclass(frozen=True)
class _Route:
    """A static response."""

    body: bytes
    status: int
    headers: dict[str, str]
    content_type: str
    conditional: bool
    etag: str
    last_modified: str


class _RequestHandler(BaseHTTPRequestHandler):
    """Hands every request to the owning LoopbackServer."""

    protocol_version = "HTTP/1.1"
    timeout = 30  # an idle keep-alive connection is dropped after this many seconds
    # Headers and body go out in two writes; with Nagle's algorithm the body then waits for the
    # client's delayed ACK of the headers: 44 ms per response instead of 0.6 (measured on a
    # keep-alive connection, 20 kB body). Real servers send at once, so the offline twin does too.
    disable_nagle_algorithm = True
    server: _HTTPServer

    def _dispatch(self) -> None:
        """Route the request (all methods go through the same table)."""
        self.server.loopback.dispatch(self)

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_OPTIONS = _dispatch

    def log_message(self, *args: Any) -> None:
        """Stay quiet; requests are recorded in LoopbackServer.requests instead."""


class _HTTPServer(ThreadingHTTPServer):
    """ThreadingHTTPServer that tracks its connections so it can end them on stop."""

    daemon_threads = True
    block_on_close = False

    def __init__(self, loopback: LoopbackServer, host: str, port: int) -> None:
        self.loopback = loopback
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.live: dict[threading.Thread, socket.socket] = {}
        self.live_lock = threading.Lock()
        super().__init__((host, port), _RequestHandler)

    def server_bind(self) -> None:
        """Bind without the reverse-DNS lookup HTTPServer.server_bind would do."""
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = str(self.server_address[0]), self.server_address[1]

    def process_request(self, request: Any, client_address: Any) -> None:
        """Serve one connection on its own daemon thread, remembering it."""
        thread = threading.Thread(target=self._serve_connection, args=(request, client_address), daemon=True)
        with self.live_lock:
            self.live[thread] = request
        thread.start()

    def _serve_connection(self, request: Any, client_address: Any) -> None:
        """Run the handler for one connection, then forget it."""
        try:
            self.process_request_thread(request, client_address)
        finally:
            with self.live_lock:
                self.live.pop(threading.current_thread(), None)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Ignore clients that hang up; print anything else."""
        if not isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            super().handle_error(request, client_address)


class LoopbackServer:
    """Threaded HTTP/1.1 server on a loopback address with static routes and custom handlers."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host, self.port = host, port
        self.requests: list[RecordedRequest] = []
        self.stopping = threading.Event()
        self._routes: dict[str, _Route | Handler] = {}
        self._lock = threading.Lock()
        self._server: _HTTPServer | None = None
        self._last: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        """``http://HOST:PORT`` (IPv6 hosts in brackets); the port is known after start()."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def url(self, path: str) -> str:
        """Absolute URL of ``path`` on this server."""
        return self.base_url + (path if path.startswith("/") else "/" + path)

    def start(self) -> Self:
        """Bind and serve on a background thread; returns self."""
        if self._server is None:
            self.stopping.clear()
            self._server = self._last = _HTTPServer(self, self.host, self.port)
            self.port = self._server.server_address[1]
            self._thread = threading.Thread(
                target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, hang up on open connections and join every thread."""
        server, self._server = self._server, None
        if server is None:
            return
        self.stopping.set()
        server.shutdown()
        with server.live_lock:
            live = list(server.live.items())
        for _, conn in live:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        server.server_close()
        for thread, _ in live:
            thread.join(_JOIN_SECONDS)
        if self._thread is not None:
            self._thread.join(_JOIN_SECONDS)

    @property
    def open_connections(self) -> int:
        """Number of connections whose handler thread is still running (also after stop)."""
        server = self._last
        if server is None:
            return 0
        with server.live_lock:
            return sum(1 for thread in server.live if thread.is_alive())

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def route(
        self,
        path: str,
        body: bytes,
        *,
        status: int = 200,
        headers: dict[str, str] | None = None,
        content_type: str = "text/html; charset=utf-8",
        conditional: bool = True,
    ) -> None:
        """Serve ``body`` at ``path``; when conditional, with ETag/Last-Modified and 304s."""
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        modified = email.utils.formatdate(int(time.time()), usegmt=True)
        route = _Route(body, status, dict(headers or {}), content_type, conditional, etag, modified)
        with self._lock:
            self._routes[path] = route

    def handler(self, path: str, fn: Handler) -> None:
        """Answer requests for ``path`` by calling ``fn(request_handler)``."""
        with self._lock:
            self._routes[path] = fn

    def clear(self) -> None:
        """Forget all routes, handlers and recorded requests."""
        with self._lock:
            self._routes.clear()
            self.requests.clear()

    def pause(self, seconds: float) -> bool:
        """Sleep in a handler; returns False at once when the server is stopping."""
        return not self.stopping.wait(seconds)

    def dispatch(self, request: BaseHTTPRequestHandler) -> None:
        """Record the request, then answer it from the route table (404 when unknown)."""
        headers = {k.lower(): v for k, v in request.headers.items()}
        length = headers.get("content-length", "")
        if length.isdigit():
            request.rfile.read(int(length))
        with self._lock:
            self.requests.append(RecordedRequest(request.command, request.path, headers, time.monotonic()))
            target = self._routes.get(request.path)
            if target is None:
                target = self._routes.get(request.path.split("?", 1)[0])
        if target is None:
            respond(request, 404, b"not found\n", {"Content-Type": "text/plain; charset=utf-8"})
        elif isinstance(target, _Route):
            _serve_route(request, target)
        else:
            target(request)


def respond(
    request: BaseHTTPRequestHandler,
    status: int,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
) -> None:
    """Write a complete response with Content-Length (no body for HEAD or 304); for handlers."""
    request.send_response(status)
    for name, value in (headers or {}).items():
        request.send_header(name, value)
    if status != 304:
        request.send_header("Content-Length", str(len(body)))
    request.end_headers()
    if request.command != "HEAD" and status != 304:
        request.wfile.write(body)


def _serve_route(request: BaseHTTPRequestHandler, route: _Route) -> None:
    """Answer from a static route, honouring If-None-Match / If-Modified-Since."""
    headers = {"Content-Type": route.content_type}
    if route.conditional:
        headers |= {"ETag": route.etag, "Last-Modified": route.last_modified}
    headers |= route.headers
    if route.conditional and _not_modified(request, route):
        respond(request, 304, b"", {"ETag": route.etag, "Last-Modified": route.last_modified})
    else:
        respond(request, route.status, route.body, headers)


def _not_modified(request: BaseHTTPRequestHandler, route: _Route) -> bool:
    """RFC 9110 evaluation: If-None-Match wins over If-Modified-Since."""
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match is not None:
        tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return "*" in tags or route.etag in tags
    since = request.headers.get("If-Modified-Since")
    if since is None:
        return False
    try:
        since_at = email.utils.parsedate_to_datetime(since)
        modified_at = email.utils.parsedate_to_datetime(route.last_modified)
    except (TypeError, ValueError):
        return False
    return since_at.tzinfo is not None and modified_at <= since_at
