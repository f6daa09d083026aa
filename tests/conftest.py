"""Shared pytest fixtures."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from flows.fetch import Fetcher
from flows.loopback import LoopbackServer
from flows.settings import Settings

# Small, fast network settings for tests that talk to a LoopbackServer on 127.0.0.1.
FAST_FETCH_SETTINGS: dict[str, Any] = {
    "allow_hosts": ("127.0.0.1",),
    "connect_timeout": 1.0,
    "read_timeout": 1.0,
    "total_timeout": 3.0,
    "host_delay_seconds": 0.0,
    "host_concurrency": 4,
    "retries": 2,
    "retry_backoff_seconds": 0.01,
    "max_retry_after_seconds": 1.0,
    "fetch_workers": 4,
}


@pytest.fixture
def loopback() -> Iterator[LoopbackServer]:
    """A started LoopbackServer on 127.0.0.1 (random port), stopped after the test."""
    with LoopbackServer() as server:
        yield server


@pytest.fixture
def make_fetcher() -> Iterator[Callable[..., Fetcher]]:
    """Factory: ``make_fetcher(**setting_overrides)`` -> Fetcher with fast test settings."""
    made: list[Fetcher] = []

    def make(**overrides: Any) -> Fetcher:
        resolver = overrides.pop("resolver", None)
        settings = Settings().replace(**(FAST_FETCH_SETTINGS | overrides))
        fetcher = Fetcher(settings, resolver=resolver)
        made.append(fetcher)
        return fetcher

    yield make
    for fetcher in made:
        fetcher.close()
