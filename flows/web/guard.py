"""Safety of the web app: the access token, the Host check, CSRF tokens and security headers.

- With a token (required when binding anything but loopback), every request must carry it: an
  ``Authorization: Bearer`` or ``X-Axiswatch-Token`` header, or the cookie that ``/login?token=``
  sets. Without a token the app only answers requests addressed to a loopback host name (so a
  web page cannot reach it through DNS rebinding).
- Every write is a POST whose form carries the CSRF token of the ``axiswatch_csrf`` cookie
  (double submit, SameSite=Strict); a POST from another origin is refused.
- Every response forbids inline script, framing and foreign resources (Content-Security-Policy).
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
from collections.abc import Awaitable, Callable, Mapping

from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp

TOKEN_COOKIE = "axiswatch_token"
CSRF_COOKIE = "axiswatch_csrf"
LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1"}
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",  # no-referrer would make browsers send Origin: null on POST
    "Cache-Control": "no-store",
}


def is_loopback(host: str) -> bool:
    """True for a loopback address or the name localhost."""
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def same(a: str | None, b: str | None) -> bool:
    """Constant-time comparison of two secrets (False when either is missing)."""
    return bool(a) and bool(b) and hmac.compare_digest(str(a).encode(), str(b).encode())


class Guard(BaseHTTPMiddleware):
    """Token and Host checks before every request; CSRF cookie and security headers after."""

    def __init__(self, app: ASGIApp, token: str | None) -> None:
        """Wrap ``app``; ``token`` None means loopback-only access."""
        super().__init__(app)
        self.token = token

    async def dispatch(
        self, request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        """Refuse, log in, or pass the request on and harden the response."""
        refused = self._refusal(request)
        if refused is not None:
            return self._harden(refused, request)
        if self.token and request.url.path == "/login":
            return self._harden(self._login(request), request)
        request.state.csrf = request.cookies.get(CSRF_COOKIE) or secrets.token_hex(16)
        return self._harden(await call_next(request), request)

    def _refusal(self, request: Request) -> Response | None:
        """A 4xx response if the request may not proceed."""
        if request.method not in ("GET", "HEAD", "POST"):
            return PlainTextResponse("method not allowed", status_code=405)
        if self.token is None and not is_loopback(request.url.hostname or ""):
            return PlainTextResponse("this server answers loopback host names only", status_code=421)
        if self.token and request.url.path != "/login" and not self._authorised(request):
            return PlainTextResponse("token required: open /login?token=…", status_code=401)
        if request.method == "POST" and not _same_origin(request):
            return PlainTextResponse("cross-origin POST refused", status_code=403)
        return None

    def _authorised(self, request: Request) -> bool:
        """The request carries the token in a header or the login cookie."""
        bearer = request.headers.get("authorization", "")
        given = (
            bearer[7:] if bearer.lower().startswith("bearer ") else request.headers.get("x-axiswatch-token")
        )
        return same(given, self.token) or same(request.cookies.get(TOKEN_COOKIE), self.token)

    def _login(self, request: Request) -> Response:
        """``/login?token=…``: set the token cookie and go to the dashboard, or refuse."""
        if not same(request.query_params.get("token"), self.token):
            return PlainTextResponse("wrong token", status_code=401)
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(TOKEN_COOKIE, str(self.token), httponly=True, samesite="strict")
        return response

    @staticmethod
    def _harden(response: Response, request: Request) -> Response:
        """Security headers, and the CSRF cookie when the browser has none yet."""
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        csrf = getattr(request.state, "csrf", None)
        if csrf and request.cookies.get(CSRF_COOKIE) != csrf:
            response.set_cookie(CSRF_COOKIE, csrf, httponly=True, samesite="strict")
        return response


def _same_origin(request: Request) -> bool:
    """A POST's Origin (when the browser sends one) names this very host."""
    origin = request.headers.get("origin")
    if not origin or origin == "null":
        return origin is None
    return origin.split("://", 1)[-1] == request.headers.get("host", "")


def check_csrf(request: Request, form: Mapping[str, str]) -> bool:
    """The form's csrf field equals the CSRF cookie (double submit)."""
    return same(form.get("csrf"), request.cookies.get(CSRF_COOKIE))
