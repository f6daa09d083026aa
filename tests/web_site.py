"""A small demo-like warehouse for the web app's tests: real dev passages over four weeks, plus hostile text.

Built once per test session on a LoopbackServer with the pipeline's own stage loops (ingest, score,
search index), then shared read-only by the web tests; each test that writes labels copies it.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from email.utils import format_datetime
from html import escape
from pathlib import Path

import httpx
import pytest

from flows.settings import SEEDS_DIR, Settings
from flows.tools.demo_site import DemoFeed, article_page, render_feed
from flows.tools.loopback import LoopbackServer
from tests.ingest_site import NOW, fast_settings
from tests.stages import run_ingest, run_score
from warehouse.ops import RefreshSearch

HOSTILE_TITLE = '<script>window.__xss=1</script><img src=x onerror="window.__xss=2"> | </td></table> Seoul'
HOSTILE_AUTHOR = '"><svg onload="window.__xss=3">'
HOSTILE_TEXT = (
    "Seoul and Washington <script>window.__xss=4</script> expanded drills, and a link "
    '<a href="javascript:window.__xss=5">click</a> | pipe | tab\t</td></tr></table> broke no table.'
)
FEEDS = {  # source id: (language, kind, country, affiliation)
    "wire": ("en", "wire", "KR", "independent"),
    "state": ("en", "state-media", "CN", "state"),
    "ko-daily": ("ko", "newspaper", "KR", "independent"),
    "hostile": ("en", "blog", "ZZ", "independent"),
}


@dataclass(frozen=True)
class WebWarehouse:
    """The built warehouse's settings and what the tests look for in it."""

    settings: Settings
    korean_word: str
    hostile_title: str = HOSTILE_TITLE


def dev_passages(lang: str) -> list[dict[str, str]]:
    """Dev-set passages of one language, in file order."""
    lines = (SEEDS_DIR / "stance-dev" / "passages.jsonl").read_text(encoding="utf-8").splitlines()
    return [row for row in map(json.loads, lines) if row["lang"] == lang]


def item_xml(guid: str, link: str, title: str, days_ago: float, author: str | None = None) -> str:
    """One RSS item (optionally with an author)."""
    extra = f"<author>{escape(author)}</author>" if author else ""
    published = format_datetime(NOW - timedelta(days=days_ago))
    return (
        f"<item><title>{escape(title)}</title><link>{escape(link)}</link>{extra}"
        f'<guid isPermaLink="false">{escape(guid)}</guid><pubDate>{published}</pubDate></item>'
    )


def build_site(server: LoopbackServer, tmp: Path) -> tuple[Settings, str]:
    """Serve four feeds (12 English, 4 Korean, 1 hostile article over 4 weeks); return settings."""
    items: dict[str, list[str]] = {sid: [] for sid in FEEDS}
    english, korean = dev_passages("en"), dev_passages("ko")
    for n in range(16):
        lang = "ko" if n % 4 == 3 else "en"
        pool = korean if lang == "ko" else english
        paragraphs = [pool[(n * 3 + k) % len(pool)]["text"] for k in range(3)]
        sid = "ko-daily" if lang == "ko" else ("wire" if n % 2 else "state")
        path = f"/a/{n}.html"
        server.route(path, article_page(f"Story {n}: " + paragraphs[0][:40], paragraphs, sid, NOW))
        items[sid].append(item_xml(f"g{n}", server.url(path), f"Story {n}", 1 + 7 * (n // 4) + n % 4 * 0.5))
    server.route(
        "/a/hostile.html", article_page(HOSTILE_TITLE, [HOSTILE_TEXT, english[40]["text"]], "x", NOW)
    )
    items["hostile"].append(item_xml("h", server.url("/a/hostile.html"), HOSTILE_TITLE, 2, HOSTILE_AUTHOR))
    toml = []
    for sid, (lang, kind, country, affiliation) in FEEDS.items():
        feed = DemoFeed(sid, sid, country, lang, kind, affiliation, "utf-8", items[sid])
        server.route(
            f"/feeds/{sid}.xml", render_feed(feed, server.base_url), content_type="application/rss+xml"
        )
        toml.append(
            f'[[sources]]\nid = "{sid}"\nname = "{sid.title()} News"\n'
            f'feed_url = "{server.url(f"/feeds/{sid}.xml")}"\n'
            f'country = "{country}"\nlanguage = "{lang}"\nkind = "{kind}"\naffiliation = "{affiliation}"\n'
        )
    settings = fast_settings(tmp)
    settings.sources_file.write_text("\n".join(toml), encoding="utf-8")
    words = [w for w in korean[9]["text"].split() if len(w) >= 3]  # korean[9] opens the first Korean article
    return settings, words[0]


@pytest.fixture(scope="session", name="web_warehouse")
def web_warehouse_fixture(tmp_path_factory: pytest.TempPathFactory) -> WebWarehouse:
    """The shared web-test warehouse: ingested, scored and indexed once."""
    tmp = tmp_path_factory.mktemp("webwh")
    with LoopbackServer() as server:
        settings, word = build_site(server, tmp)
        run_ingest(settings)
    run_score(settings)
    settings.sink().apply([RefreshSearch()])
    return WebWarehouse(settings, word)


def copy_warehouse(source: WebWarehouse, tmp: Path) -> Settings:
    """A private copy of the shared warehouse (for tests that write labels)."""
    target = tmp / "var"
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy(source.settings.warehouse_path, target / "axiswatch.duckdb")
    return source.settings.replace(data_dir=target, db_path=target / "axiswatch.duckdb")


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(name="web_server")
def web_server_fixture(web_warehouse: WebWarehouse, tmp_path: Path) -> Iterator[tuple[str, Settings]]:
    """`axiswatch web` in its own process on a copy of the warehouse: (base URL, settings)."""
    settings = copy_warehouse(web_warehouse, tmp_path)
    yield from serve_process(settings)


def serve_process(settings: Settings, token: str | None = None) -> Iterator[tuple[str, Settings]]:
    """Run `axiswatch web` as a subprocess until the generator is closed."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "flows.cli",
        "web",
        "--db",
        str(settings.warehouse_path),
        "--data-dir",
        str(settings.data_dir),
        "--port",
        str(port),
        "--quiet",
    ]
    if token:
        command += ["--host", "0.0.0.0", "--token", token]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_up(base, proc, token)
        yield base, settings
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _wait_up(base: str, proc: subprocess.Popen[bytes], token: str | None) -> None:
    """Wait until the server answers (or fail with its stderr)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(proc.stderr.read().decode() if proc.stderr else "web server exited")
        try:
            if httpx.get(base + "/sources", headers=headers, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise AssertionError("web server did not come up in 30 s")
