"""Issue 27 item 9: the workbench's read cache is bounded (entries and bytes), least recently used first."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.testclient import TestClient

from flows.web.app import create_app
from flows.web.cache import BoundedCache, size_of
from tests.test_web import BASE
from tests.web_site import WebWarehouse, copy_warehouse, web_warehouse_fixture  # noqa: F401


def test_fifteen_hundred_distinct_searches_leave_the_cache_at_its_bound(
    web_warehouse: WebWarehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = TestClient(create_app(copy_warehouse(web_warehouse, tmp_path)), base_url=BASE)
    store = client.app.state.store
    assert client.get("/search", params={"q": "seoul"}).status_code == 200
    rows = store.peek(("search", "seoul"))
    monkeypatch.setattr(store, "_run", lambda fn, patience: fn(None))  # no warehouse: only the cache
    cache = store._cache
    assert isinstance(cache, BoundedCache)
    for n in range(1500):
        store.read(("search", f"seoul {n}"), lambda _: [dict(r) for r in rows] + ["x" * 20_000])
        assert len(cache) <= cache.max_entries and cache.nbytes <= cache.max_bytes
    assert len(cache) == cache.max_entries
    assert cache.get(("search", "seoul 1499")) is not None and cache.get(("search", "seoul 0")) is None


def test_the_cache_drops_least_recently_used_entries_past_its_byte_bound() -> None:
    cache = BoundedCache(max_entries=100, max_bytes=60_000)
    for n in range(20):
        cache[n] = (0.0, "x" * 10_000)
        cache.get(0)  # kept fresh: never the least recently used
    assert cache.nbytes <= 60_000 and len(cache) < 10 and cache.get(0) is not None
    cache[99] = (0.0, "y" * 100_000)  # larger than the whole bound: not kept
    assert cache.get(99) is None and size_of(["ab", {"k": (1, 2)}]) > 0
