"""Shared pytest fixtures.

Prefect is configured here, before anything imports it: a private PREFECT_HOME per test
session, analytics off, quiet logs, so no test touches ~/.prefect or calls home. Model
weights load from installed packages only (HF_HUB_OFFLINE). SIGINT is handled (children
start with it at its default, whatever the runner inherited).
"""

from __future__ import annotations

import itertools
import os
import signal
import tempfile
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from flows.ingest.fetch import Fetcher
from flows.orchestration.prefect_env import prefect_defaults
from flows.settings import Settings
from flows.tools.loopback import LoopbackServer
from flows.tools.pgserver import PostgresServer
from tests.ingest_site import FAST_FETCH_SETTINGS
from warehouse.db import Location
from warehouse.lake import Lake

# none of the imports above imports prefect, so its settings can still be chosen here
_SESSION_DATA = tempfile.mkdtemp(prefix="axiswatch-tests-")
for _key, _value in prefect_defaults(Settings.load(env={}, data_dir=_SESSION_DATA)).items():
    os.environ[_key] = _value
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.makedirs(os.environ["PREFECT_HOME"], exist_ok=True)
# a runner started in the background by a shell without job control inherits SIGINT ignored, and
# an ignored signal stays ignored across exec: every server and worker a test stops with SIGINT
# would then wait out its timeout. Handled here, it is at its default in every child again.
signal.signal(signal.SIGINT, signal.default_int_handler)


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


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """One throwaway PostgreSQL for the session (as `nobody` when root; loopback only)."""
    with PostgresServer() as server:
        yield server


_lakes = itertools.count()


@pytest.fixture(scope="session")
def new_warehouse(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Callable[[str], Location]:
    """Make an empty warehouse of a backend: ``duckdb`` (a new file) or ``ducklake`` (a new
    catalog database on the session's PostgreSQL and a new data directory)."""

    def make(backend: str) -> Location:
        if backend == "duckdb":
            return tmp_path_factory.mktemp("duckdb") / "w.duckdb"
        server: PostgresServer = request.getfixturevalue("postgres")
        name = f"lake{next(_lakes)}"
        return Lake(server.createdb(name), str(tmp_path_factory.mktemp(name)))

    return make


BACKENDS = ("duckdb", "ducklake")
"""The warehouse backends the matrix tests run on."""
