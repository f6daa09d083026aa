"""A small news site for ingest tests: feeds and pages on a LoopbackServer the test starts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from flows.settings import Settings
from flows.tools.demo_site import DemoFeed, article_page, render_feed, render_item
from flows.tools.loopback import LoopbackServer

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)

STORIES = {
    "alliance": [
        "Seoul and Washington agreed on Tuesday to deepen their alliance, expanding joint drills "
        "and coordinating export controls on advanced chips bound for China.",
        "Officials in Seoul said the move reflected a long-term choice to anchor South Korea's "
        "security and technology policy to the United States rather than balance between powers.",
        "Analysts noted that Beijing had warned against the step, calling it a mistake that would "
        "damage trade ties built over three decades.",
    ],
    "hedge": [
        "South Korea's foreign minister stressed pragmatic diplomacy, saying Seoul would keep its "
        "alliance with the United States while maintaining stable relations with China.",
        "The ministry described the approach as a balance between security and economic interests, "
        "declining to take sides in the competition between the two powers.",
        "Diplomats from both capitals welcomed the statement, which many read as strategic ambiguity.",
    ],
    "kpop": [
        "A Seoul concert hall sold out within minutes as fans lined up overnight for the band's "
        "first show of its world tour, organisers said on Sunday evening.",
        "The group will perform in twelve cities across Asia, Europe and North America through "
        "the spring, with additional dates expected to be announced next month.",
        "Merchandise stands opened six hours before the doors, and local shops reported record sales.",
    ],
}

KOREAN = [
    "한국 정부는 미국과의 동맹을 강화하면서도 중국과의 경제 협력을 유지하겠다고 밝혔다.",
    "외교부 관계자는 실용 외교를 통해 양국 사이에서 균형을 잡겠다고 설명했다.",
    "전문가들은 이번 발표가 전략적 모호성을 유지하려는 의도로 보인다고 평가했다.",
]


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


def fast_settings(tmp_path: Path, **overrides: Any) -> Settings:
    """Settings for an ingest test: loopback allowed, no politeness delays, tiny timeouts."""
    values: dict[str, Any] = {
        **FAST_FETCH_SETTINGS,
        "data_dir": tmp_path / "var",
        "sources_file": tmp_path / "sources.toml",
        "retries": 0,
        "poll_interval_minutes": 0.0,
        "extract_workers": 1,
        "lock_patience_seconds": 2.0,
        "batch_size": 8,
    }
    values.update(overrides)
    return Settings.load(env={}, **values)


def sources_toml(feeds: dict[str, tuple[str, str]], base_url: str) -> str:
    """A sources file for {source_id: (feed path, language)} on the server."""
    parts = []
    for sid, (path, lang) in feeds.items():
        parts.append(
            f'[[sources]]\nid = "{sid}"\nname = "{sid.title()}"\nfeed_url = "{base_url}{path}"\n'
            f'country = "KR"\nlanguage = "{lang}"\nkind = "newspaper"\n'
        )
    return "\n".join(parts)


def serve_story(server: LoopbackServer, path: str, key: str, intro: str | None = None) -> str:
    """Serve one English story page; return its URL."""
    paragraphs = ([intro] if intro else []) + STORIES[key]
    server.route(path, article_page(key.title(), paragraphs, "Test Daily", NOW))
    return server.url(path)


def feed_bytes(name: str, items: list[str], encoding: str = "utf-8") -> bytes:
    """An RSS document with the given rendered items."""
    feed = DemoFeed(name, name, "KR", "en", "newspaper", "independent", encoding, items)
    return render_feed(feed, "http://127.0.0.1")


def item(guid: str, url: str, title: str, content: str | None = None, days_ago: int = 1) -> str:
    """One rendered RSS item."""
    return render_item(guid, url, title, NOW - timedelta(days=days_ago), content)


def build_site(server: LoopbackServer, tmp_path: Path) -> Settings:
    """Two healthy feeds (UTF-8 English, EUC-KR Korean) and their pages; return settings."""
    a = serve_story(server, "/news/alliance.html", "alliance")
    h = serve_story(server, "/news/hedge.html", "hedge")
    k = serve_story(server, "/culture/kpop.html", "kpop")
    wire = serve_story(
        server, "/wire/alliance-copy.html", "alliance", intro="(Wire) First published by a partner."
    )
    english = [
        item("a1", a, "Alliance deepens"),
        item("h1", h, "Pragmatic diplomacy"),
        item("k1", k, "Concert sells out"),
        item("a1-utm", a + "?utm_source=rss&fbclid=abc#top", "Alliance deepens (again)"),
        item("w1", wire, "Alliance deepens (wire copy)"),
    ]
    server.route("/feeds/english.xml", feed_bytes("english", english), content_type="application/rss+xml")
    korean_content = "".join(f"<p>{p}</p>" for p in KOREAN)
    korean = [item("ko1", server.url("/ko/gone.html"), "외교 균형", content=korean_content)]
    server.route(
        "/feeds/korean.xml",
        feed_bytes("korean", korean, encoding="euc-kr"),
        content_type="application/rss+xml; charset=euc-kr",
    )
    settings = fast_settings(tmp_path)
    feeds = {"english": ("/feeds/english.xml", "en"), "korean": ("/feeds/korean.xml", "ko")}
    settings.sources_file.write_text(sources_toml(feeds, server.base_url), encoding="utf-8")
    return settings
