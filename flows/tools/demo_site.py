"""The offline demo: real pages and real passages served as feeds on loopback.

What is served (all from seeds/, nothing from the internet):
- one feed per outlet named in seeds/stance-dev/passages.jsonl (the 106 labelled real
  passages of the stance dev set), each item carrying its passage as full content
  (content:encoded); half of the items link to a page that exists, half to a page that is gone,
  so ingest uses the feed's text when the page is unavailable. Korean outlets' feeds are served
  in EUC-KR and Chinese outlets' in GB18030, as many real outlets still do;
- the seed article (seeds/seed_article.txt) as a page in a ThinkChina feed;
- the 181 real pages of the article-extraction benchmark as off-topic noise in four feeds,
  plus a syndicated near-copy, a link behind tracking parameters and a robots-disallowed page.
Publication dates are synthetic (spread over the 12 weeks before the demo runs) so the weekly
report has weeks to show; the demo says so when it prints.
"""

from __future__ import annotations

import gzip
import hashlib
import html
import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

from flows.report.facts import DEMO_MARKER
from flows.settings import SEEDS_DIR
from flows.tools.loopback import LoopbackServer

DEMO_DIR = SEEDS_DIR / "demo"
BENCH_DIR = DEMO_DIR / "extraction-benchmark"
SEED_ARTICLE = SEEDS_DIR / "seed_article.txt"
SYNTHETIC_WEEKS = 12
NOISE_FEEDS = 4


@dataclass
class DemoFeed:
    """One demo feed and the outlet it stands for."""

    source_id: str
    name: str
    country: str
    language: str
    kind: str
    affiliation: str
    encoding: str = "utf-8"
    items: list[str] = field(default_factory=list)  # rendered <item> elements


def slug(text: str) -> str:
    """A lower-case id slug for an outlet name."""
    value = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60]
    if len(value) >= 3 and text.isascii():
        return value
    digest = hashlib.sha1(text.encode("utf-8")).hexdigest()[:8]  # CJK names: stable, distinct
    return f"{value}-{digest}" if value else f"outlet-{digest}"


def base_outlet(outlet: str) -> str:
    """The outlet a stance passage names, without reposts/columns qualifiers."""
    return re.split(r" \(|（|\(| via | column| editorial| / | abstract", outlet)[0].strip()


def synthetic_date(key: str, now: datetime) -> datetime:
    """A stable pseudo-random publication time within the last SYNTHETIC_WEEKS weeks."""
    hours = int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) % (SYNTHETIC_WEEKS * 7 * 24)
    return (now - timedelta(hours=hours + 1)).replace(minute=0, second=0, microsecond=0)


def render_item(guid: str, link: str, title: str, published: datetime, content: str | None) -> str:
    """One RSS <item>; content (HTML) goes to content:encoded."""
    parts = [
        "<item>",
        f"<title>{escape(title)}</title>",
        f"<link>{escape(link)}</link>",
        f'<guid isPermaLink="false">{escape(guid)}</guid>',
        f"<pubDate>{format_datetime(published)}</pubDate>",
    ]
    if content:
        safe = content.replace("]]>", "]]]]><![CDATA[>")
        parts.append(f"<content:encoded><![CDATA[{safe}]]></content:encoded>")
    parts.append("</item>")
    return "".join(parts)


def render_feed(feed: DemoFeed, base_url: str) -> bytes:
    """An RSS 2.0 document for a demo feed, in the feed's encoding."""
    head = (
        f'<?xml version="1.0" encoding="{feed.encoding}"?>\n'
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">'
        f"<channel><title>{escape(feed.name)}</title><link>{base_url}/</link>"
        f"<description>axiswatch demo feed for {escape(feed.name)}</description>"
    )
    text = head + "".join(feed.items) + "</channel></rss>"
    return text.encode(feed.encoding, errors="xmlcharrefreplace")


def article_page(title: str, paragraphs: list[str], site: str, published: datetime) -> bytes:
    """A plausible article page: navigation, the article, related links and a footer."""
    body = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    nav = "".join(f'<li><a href="/section/{s}">{s.title()}</a></li>' for s in ("world", "asia", "opinion"))
    page = (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}'
        f' | {html.escape(site)}</title><meta property="og:site_name" content="{html.escape(site)}">'
        f'<meta name="date" content="{published.date().isoformat()}"></head><body>'
        f"<header><nav><ul>{nav}</ul></nav></header><main><article>"
        f'<h1>{html.escape(title)}</h1><p class="byline">{published:%d %b %Y}</p>{body}</article>'
        '<aside><h3>Most read</h3><ul><li><a href="/a">Markets close higher</a></li>'
        '<li><a href="/b">Weather warning issued</a></li></ul></aside></main>'
        f"<footer><p>© {published.year} {html.escape(site)}. All rights reserved.</p></footer>"
        "</body></html>"
    )
    return page.encode("utf-8")


def load_outlets() -> dict[str, tuple[str, str, str]]:
    """Demo outlet → (country, kind, affiliation) from seeds/demo/outlets.tsv."""
    table: dict[str, tuple[str, str, str]] = {}
    for line in (DEMO_DIR / "outlets.tsv").read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#") or line.startswith("outlet\t"):
            continue
        name, country, kind, affiliation = line.split("\t")
        table[name] = (country, kind, affiliation)
    return table


def _stance_feeds(server: LoopbackServer, now: datetime) -> dict[str, DemoFeed]:
    """Feeds of the labelled real passages, one per outlet, each item with full content."""
    outlets = load_outlets()
    feeds: dict[str, DemoFeed] = {}
    lines = (SEEDS_DIR / "stance-dev" / "passages.jsonl").read_text(encoding="utf-8").splitlines()
    for n, line in enumerate(lines):
        row = json.loads(line)
        outlet = base_outlet(row["outlet"])
        country, kind, affiliation = outlets.get(outlet, ("ZZ", "blog", "independent"))
        sid = slug(outlet)
        encoding = {"ko": "euc-kr", "zh": "gb18030"}.get(row["lang"], "utf-8")
        feed = feeds.setdefault(sid, DemoFeed(sid, outlet, country, row["lang"], kind, affiliation, encoding))
        published = synthetic_date(row["id"], now)
        path = f"/{sid}/{row['id'].lower()}.html"
        title = row["text"][:80].rsplit(" ", 1)[0] if " " in row["text"][:80] else row["text"][:40]
        if n % 2 == 0:  # half the pages exist; the others are gone (404) and the feed text is used
            server.route(path, article_page(title, [row["text"]], outlet, published))
        content = f"<p>{html.escape(row['text'])}</p>"
        feed.items.append(render_item(f"stance-dev:{row['id']}", server.url(path), title, published, content))
    return feeds


def _seed_feed(server: LoopbackServer, now: datetime) -> DemoFeed:
    """The seed article as a ThinkChina page."""
    text = SEED_ARTICLE.read_text(encoding="utf-8")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    title, paragraphs = lines[0], lines[1:]
    published = synthetic_date("seed", now)
    path = "/thinkchina/south-koreas-us-pivot-raises-alarm-beijing.html"
    server.route(path, article_page(title, paragraphs, "ThinkChina", published))
    feed = DemoFeed("thinkchina", "ThinkChina", "SG", "en", "newspaper", "independent")
    feed.items.append(render_item("thinkchina:seed", server.url(path), title, published, None))
    # the same article again behind tracking parameters: canonicalisation must fold it
    feed.items.append(
        render_item(
            "thinkchina:seed-utm",
            server.url(path) + "?utm_source=rss&utm_medium=feed&fbclid=x1",
            title,
            published,
            None,
        )
    )
    return feed


def _noise_feeds(server: LoopbackServer, now: datetime) -> list[DemoFeed]:
    """The 181 benchmark pages as off-topic noise in four feeds, plus hostile-ish extras."""
    truth = json.loads((BENCH_DIR / "ground-truth.json").read_text(encoding="utf-8"))
    feeds = [
        DemoFeed(f"noise-{i + 1}", f"Benchmark pages {'ABCD'[i]}", "ZZ", "en", "blog", "independent")
        for i in range(NOISE_FEEDS)
    ]
    for n, file in enumerate(sorted((BENCH_DIR / "html").glob("*.html.gz"))):
        key = file.name.split(".")[0]
        path = f"/noise/{key}.html"
        server.route(path, gzip.decompress(file.read_bytes()), content_type="text/html")
        title = str(truth.get(key, {}).get("articleBody", key))[:60]
        feeds[n % NOISE_FEEDS].items.append(
            render_item(f"noise:{key}", server.url(path), title, synthetic_date(key, now), None)
        )
    # a syndicated near-copy of a long benchmark article under another URL (near-duplicate)
    key, body = max(((k, str(v.get("articleBody", ""))) for k, v in truth.items()), key=lambda kv: len(kv[1]))
    paragraphs = [p for p in body.split("\n") if p.strip()]
    copy = ["(Wire) This story was first published by a partner agency.", *paragraphs]
    server.route("/wire/syndicated-copy.html", article_page("Syndicated copy", copy, "Wire partner", now))
    feeds[0].items.append(
        render_item(
            "noise:syndicated",
            server.url("/wire/syndicated-copy.html"),
            "Syndicated copy",
            synthetic_date("syndicated", now),
            None,
        )
    )
    # robots.txt forbids /private/: this item is refused and recorded, never fetched
    server.route("/robots.txt", b"User-agent: *\nDisallow: /private/\n", content_type="text/plain")
    feeds[1].items.append(
        render_item(
            "noise:private",
            server.url("/private/members-only.html"),
            "Members only",
            synthetic_date("private", now),
            None,
        )
    )
    return feeds


def build_site(server: LoopbackServer, now: datetime) -> list[DemoFeed]:
    """Register every demo page and feed on the server; return the feeds."""
    feeds = [*_stance_feeds(server, now).values(), _seed_feed(server, now), *_noise_feeds(server, now)]
    for feed in feeds:
        content_type = f"application/rss+xml; charset={feed.encoding}"
        server.route(
            f"/feeds/{feed.source_id}.xml", render_feed(feed, server.base_url), content_type=content_type
        )
    return feeds


def sources_toml(feeds: list[DemoFeed], base_url: str) -> str:
    """A sources.toml for the demo feeds on ``base_url``."""
    out = ["# Generated by `axiswatch demo`: the demo's outlets, served on loopback.\n"]
    for f in feeds:
        out.append(
            "[[sources]]\n"
            f'id = "{f.source_id}"\nname = {json.dumps(f.name, ensure_ascii=False)}\n'
            f'feed_url = "{base_url}/feeds/{f.source_id}.xml"\ncountry = "{f.country}"\n'
            f'language = "{f.language}"\nkind = "{f.kind}"\naffiliation = "{f.affiliation}"\n'
            f"notes = {json.dumps(DEMO_MARKER)}\n"
        )
    return "\n".join(out)


def write_sources(feeds: list[DemoFeed], base_url: str, path: Path) -> Path:
    """Write the demo sources file and return its path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(sources_toml(feeds, base_url), encoding="utf-8")
    return path
