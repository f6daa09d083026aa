"""The workbench answers under load while an ingest writes to the same warehouse.

50 concurrent clients (httpx/asyncio) hit the dashboard and article pages of `axiswatch web` (its own
process) for LOAD_SECONDS while this process runs an ingest of new feeds into the warehouse.
Reports p50/p99 latency; asserts no errors and that the ingest stored every new article.
"""

from __future__ import annotations

import asyncio
import re
import statistics
import threading
import time
from pathlib import Path

import httpx

from flows.settings import Settings
from flows.tools.demo_site import DemoFeed, article_page, render_feed
from flows.tools.loopback import LoopbackServer
from tests.stages import run_ingest
from tests.web_site import NOW, dev_passages, item_xml, web_server_fixture, web_warehouse_fixture  # noqa: F401
from warehouse.db import reader

CLIENTS = 50
LOAD_SECONDS = 10.0
NEW_ARTICLES = 24


async def _client(
    client: httpx.AsyncClient, paths: list[str], stop: float, latencies: list[float], errors: list[str]
) -> None:
    """One client (its own connection of the shared pool): request the pages in turn until ``stop``."""
    if paths:
        k = 0
        while time.monotonic() < stop:
            path = paths[k % len(paths)]
            k += 1
            started = time.perf_counter()
            try:
                response = await client.get(path)
                if response.status_code != 200:
                    errors.append(f"{path}: {response.status_code}")
            except httpx.HTTPError as exc:
                errors.append(f"{path}: {exc!r}")
            latencies.append(time.perf_counter() - started)


async def _load(base: str, paths: list[str]) -> tuple[list[float], list[str]]:
    """CLIENTS clients for LOAD_SECONDS."""
    latencies: list[float] = []
    errors: list[str] = []
    limits = httpx.Limits(max_connections=CLIENTS)  # one pool of 50 connections, no per-client TLS setup
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as client:
        stop = time.monotonic() + LOAD_SECONDS
        await asyncio.gather(
            *(_client(client, paths[k:] + paths[:k], stop, latencies, errors) for k in range(CLIENTS))
        )
    return latencies, errors


def _new_feed(server: LoopbackServer, settings: Settings, tmp: Path) -> Settings:
    """A further feed with NEW_ARTICLES unseen articles, added to the sources."""
    english = dev_passages("en")
    items = []
    for n in range(NEW_ARTICLES):
        paragraphs = [english[(100 + n * 2 + k) % len(english)]["text"] for k in range(2)]
        server.route(f"/b/{n}.html", article_page(f"Load {n}", paragraphs, "load", NOW))
        items.append(item_xml(f"L{n}", server.url(f"/b/{n}.html"), f"Load {n}", 1 + n % 5))
    feed = DemoFeed("load", "load", "US", "en", "think-tank", "independent", "utf-8", items)
    server.route("/feeds/load.xml", render_feed(feed, server.base_url), content_type="application/rss+xml")
    sources = tmp / "load-sources.toml"
    sources.write_text(
        f'[[sources]]\nid = "load"\nname = "Load"\nfeed_url = "{server.url("/feeds/load.xml")}"\n'
        'country = "US"\nlanguage = "en"\nkind = "think-tank"\n',
        encoding="utf-8",
    )
    return settings.replace(sources_file=sources, lock_patience_seconds=30.0)


def test_fifty_clients_while_an_ingest_writes(web_server: tuple[str, Settings], tmp_path: Path) -> None:
    base, settings = web_server
    week = re.search(r'data-href="([^"]+)"', httpx.get(base + "/").text).group(1).replace("&amp;", "&")
    articles = re.findall(r'href="(/article/[0-9a-f]+)"', httpx.get(base + week).text)[:4]
    paths = ["/", articles[0], "/?kind=country", articles[1], week, articles[2]]
    for path in paths:  # a server that has been up a while: every page read once before the clock starts
        assert httpx.get(base + path, timeout=30).status_code == 200
    with LoopbackServer() as server:
        ingest_settings = _new_feed(server, settings, tmp_path)
        result: dict[str, object] = {}

        def ingest() -> None:
            time.sleep(1.0)
            started = time.monotonic()
            result["counts"] = run_ingest(ingest_settings)
            result["seconds"] = time.monotonic() - started

        writer = threading.Thread(target=ingest)
        writer.start()
        latencies, errors = asyncio.run(_load(base, paths))
        writer.join(timeout=120)
    assert not writer.is_alive()
    assert errors == []
    ordered = sorted(latencies)
    p50 = statistics.median(ordered) * 1000
    p99 = ordered[int(len(ordered) * 0.99) - 1] * 1000
    print(
        f"\nweb load: {len(ordered)} requests by {CLIENTS} clients in {LOAD_SECONDS:.0f} s "
        f"({len(ordered) / LOAD_SECONDS:.0f}/s), p50 {p50:.1f} ms, p99 {p99:.1f} ms, errors 0; "
        f"ingest alongside took {result['seconds']:.1f} s"
    )
    assert ingest_settings.sink().pending_spool() == []
    with reader(settings.warehouse_path) as con:
        stored = con.execute("SELECT count(*) FROM articles WHERE source_id = 'load'").fetchone()
    assert stored == (NEW_ARTICLES,)
    assert p99 < 10_000  # a bound: 2 shared cores also run the ingest and the 50 clients
