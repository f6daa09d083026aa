"""Shared pytest fixtures.

Prefect is configured here, before anything imports it: a private PREFECT_HOME per test
session, analytics off, quiet logs, so no test touches ~/.prefect or calls home. Model
weights load from installed packages only (HF_HUB_OFFLINE).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from flows.ingest.fetch import Fetcher
from flows.prefect_env import prefect_defaults
from flows.settings import Settings
from flows.tools.loopback import LoopbackServer
from tests.ingest_site import FAST_FETCH_SETTINGS

# none of the imports above imports prefect, so its settings can still be chosen here
_SESSION_DATA = tempfile.mkdtemp(prefix="axiswatch-tests-")
for _key, _value in prefect_defaults(Settings.load(env={}, data_dir=_SESSION_DATA)).items():
    os.environ[_key] = _value
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.makedirs(os.environ["PREFECT_HOME"], exist_ok=True)


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
