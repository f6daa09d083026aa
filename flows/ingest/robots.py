"""robots.txt as RFC 9309 reads it, parsed by protego.

Paths may hold ``*`` (any characters) and end in ``$`` (end of the path); the longest matching
rule wins, Allow on a tie; the most specific user-agent group applies and groups naming the
same agent merge. Groups are matched against the product token of our user agent
(``axiswatch`` of ``axiswatch/0.1 (…)``), never against the words of its comment.
An unavailable robots.txt (4xx but 429) allows everything; an unreachable one (5xx, 429,
no answer) allows nothing (RFC 9309 §2.3.1).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable

import httpx
from protego import Protego

ALLOW_ALL = ""
DISALLOW_ALL = "User-agent: *\nDisallow: /\n"
_PRODUCT_TOKEN = re.compile(r"[A-Za-z_-]+")


def product_token(user_agent: str) -> str:
    """The name robots.txt groups are matched against: ``axiswatch`` of ``axiswatch/0.1 (…)``."""
    match = _PRODUCT_TOKEN.match(user_agent.strip())
    return match.group(0) if match else user_agent


def robots_text(status_code: int | None, error_class: str | None, body: bytes) -> str:
    """What to obey after one robots.txt request: its text, allow-all or disallow-all."""
    if error_class is None and status_code is not None and 200 <= status_code < 300:
        return body.decode("utf-8", errors="replace")
    if error_class == "http_4xx" and status_code != 429:
        return ALLOW_ALL  # unavailable
    if error_class == "blocked":
        return ALLOW_ALL  # the page itself will be refused by the address guard
    return DISALLOW_ALL  # unreachable


class RobotsCache:
    """robots.txt per scheme+host+port, downloaded once (per cache) by ``download(url)``."""

    def __init__(self, user_agent: str, download: Callable[[str], str]) -> None:
        self._agent = product_token(user_agent)
        self._download = download
        self._lock = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}
        self._parsers: dict[str, Protego] = {}

    def allowed(self, url: httpx.URL) -> bool:
        """Whether our user agent may fetch ``url``."""
        origin = str(url.copy_with(path="/", query=None, fragment=None))
        with self._lock:
            origin_lock = self._locks.setdefault(origin, threading.Lock())
        with origin_lock:
            if origin not in self._parsers:
                self._parsers[origin] = Protego.parse(self._download(origin + "robots.txt"))
        return bool(self._parsers[origin].can_fetch(str(url), self._agent))
