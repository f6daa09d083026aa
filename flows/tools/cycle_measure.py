"""What the feed cycles measure (flows/tools/feed_cycle.py, feed_cycle_pool.py): the new items
given to a share of the feeds, the catalog database's counters and CPU, the cycle's figures."""

from __future__ import annotations

import random
import subprocess
from datetime import UTC, datetime

import psutil

from flows.tools import demo_site as demo
from flows.tools.loopback import LoopbackServer
from flows.tools.pgserver import SUPERUSER, PostgresServer
from warehouse import query
from warehouse.db import reader
from warehouse.lake import Lake

CATALOG_DB = "lake"
WORDS = tuple(
    [
        "seoul",
        "washington",
        "beijing",
        "alliance",
        "summit",
        "tariff",
        "chips",
        "supply",
        "chain",
        "hedge",
        "strategy",
        "minister",
        "president",
        "security",
        "trade",
        "deal",
        "export",
        "control",
        "missile",
        "defense",
        "diplomacy",
        "region",
        "pressure",
        "partner",
        "market",
        "investment",
        "balance",
        "ambiguity",
        "dialogue",
        "sanction",
        "talks",
        "cooperation",
        "policy",
    ]
)


def article_paragraphs(seed: str) -> list[str]:
    """Three paragraphs of shuffled words (distinct articles, never near-copies of each other)."""
    rng = random.Random(seed)
    return [" ".join(rng.choice(WORDS) for _ in range(80)).capitalize() + "." for _ in range(3)]


def add_new_items(server: LoopbackServer, feeds: list[demo.DemoFeed], share: float) -> int:
    """Give ``share`` of the feeds one new item each (a new ETag) and serve its page; how many."""
    now = datetime.now(UTC)
    step = max(1, round(1 / share)) if share > 0 else len(feeds) + 1
    changed = 0
    for n in range(0, len(feeds), step):
        feed = feeds[n]
        path = f"/news/{feed.source_id}/1.html"
        title = f"{feed.name}: new commentary"
        page = demo.article_page(title, article_paragraphs(path), feed.name, now)
        server.route(path, page)
        feed.items.append(demo.render_item(f"{feed.source_id}-1", server.url(path), title, now, None))
        server.route(
            f"/feeds/{feed.source_id}.xml",
            demo.render_feed(feed, server.base_url),
            content_type="application/rss+xml",
        )
        changed += 1
    return changed


def catalog_stats(pg: PostgresServer) -> dict[str, float]:
    """The catalog database's cumulative counters (pg_stat_database) and size."""
    sql = (
        "SELECT xact_commit, xact_rollback, tup_inserted, tup_updated, tup_deleted, tup_fetched,"
        f" tup_returned, pg_database_size('{CATALOG_DB}')"
        f" FROM pg_stat_database WHERE datname = '{CATALOG_DB}'"
    )
    psql = [str(pg.bin / "psql"), "-h", "127.0.0.1", "-p", str(pg.port), "-U", SUPERUSER, "-d", CATALOG_DB]
    out = subprocess.run([*psql, "-tAc", sql], capture_output=True, text=True, check=True, timeout=60)
    names = ("commits", "rollbacks", "inserted", "updated", "deleted", "fetched", "returned", "size_bytes")
    values = [float(v) for v in out.stdout.strip().split("|")]
    return {**dict(zip(names, values, strict=True)), "cpu_s": postgres_cpu_seconds(pg)}


def postgres_cpu_seconds(pg: PostgresServer) -> float:
    """CPU seconds of the server: the postmaster, its live backends and its reaped ones."""
    pid = int((pg.data / "postmaster.pid").read_text().split()[0])
    main = psutil.Process(pid)
    t = main.cpu_times()
    total = float(t.user + t.system + t.children_user + t.children_system)
    for child in main.children(recursive=True):
        try:
            ct = child.cpu_times()
        except psutil.Error:
            continue
        total += ct.user + ct.system
    return total


def delta(after: dict[str, float], before: dict[str, float]) -> dict[str, float]:
    """Counter differences (the size as it is after)."""
    return {k: (after[k] if k == "size_bytes" else after[k] - before[k]) for k in after}


def cycle_figures(location: Lake, since: datetime) -> dict[str, int]:
    """Polls, 304s, failures, new entries, articles stored and scored since ``since``."""
    with reader(location) as con:
        row = query.one(con, "cycle_figures", {"since": since})
    names = ("polls", "not_modified", "failed", "new_entries", "articles", "scored")
    return dict(zip(names, (int(v) for v in row), strict=True))
