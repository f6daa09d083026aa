"""robots.txt as RFC 9309 reads it (flows.ingest.robots over protego), served on loopback.

Each case here is one the standard library's parser gets wrong: it has no ``*`` or ``$``,
it applies the first matching rule, and it takes the first group whose name is a substring
of our product token.
"""

from __future__ import annotations

from collections.abc import Callable

from flows.ingest.fetch import Fetcher
from flows.ingest.robots import ALLOW_ALL, DISALLOW_ALL, product_token, robots_text
from flows.tools.loopback import LoopbackServer

MakeFetcher = Callable[..., Fetcher]


def _outcomes(loopback: LoopbackServer, fetcher: Fetcher, robots: bytes, paths: list[str]) -> dict[str, bool]:
    """Serve ``robots`` and a page per path; path -> True if fetched, False if refused by robots."""
    loopback.route("/robots.txt", robots, content_type="text/plain")
    for path in paths:
        loopback.route(path.split("?", 1)[0], b"page")
    results = fetcher.fetch_many([loopback.url(p) for p in paths])
    assert {r.error_class for r in results} <= {None, "robots"}
    refused = {p for p, r in zip(paths, results, strict=True) if r.error_class == "robots"}
    assert not refused & {r.path for r in loopback.requests}  # a refused page is never requested
    return {p: p not in refused for p in paths}


def test_wildcard_and_end_anchor(loopback: LoopbackServer, make_fetcher: MakeFetcher) -> None:
    robots = b"User-agent: *\nDisallow: /*.pdf$\nDisallow: /*?session=\n"
    paths = ["/files/report.pdf", "/files/report.pdf?page=2", "/files/report.pdf.html", "/a/B.PDF"]
    paths += ["/news/1?session=abc", "/news/1?id=2", "/news/1"]
    assert _outcomes(loopback, make_fetcher(), robots, paths) == {
        "/files/report.pdf": False,
        "/files/report.pdf?page=2": True,  # `$` ends the pattern: a query follows
        "/files/report.pdf.html": True,
        "/a/B.PDF": True,  # paths are case-sensitive
        "/news/1?session=abc": False,
        "/news/1?id=2": True,
        "/news/1": True,
    }


def test_longest_match_wins_whatever_the_order(loopback: LoopbackServer, make_fetcher: MakeFetcher) -> None:
    robots = (
        b"User-agent: *\nDisallow: /news/\nAllow: /news/public/\nDisallow: /news/public/drafts/\n"
        b"Disallow: /page\nAllow: /page\n"
    )
    paths = ["/news/public/1", "/news/secret", "/news/public/drafts/x", "/page", "/other"]
    assert _outcomes(loopback, make_fetcher(), robots, paths) == {
        "/news/public/1": True,  # the longer Allow beats the earlier, shorter Disallow
        "/news/secret": False,
        "/news/public/drafts/x": False,
        "/page": True,  # equally long: Allow wins
        "/other": True,
    }


def test_most_specific_group_applies_and_same_agent_groups_merge(
    loopback: LoopbackServer, make_fetcher: MakeFetcher
) -> None:
    robots = (
        b"User-agent: axis\nDisallow: /\n\n"
        b"User-agent: *\nDisallow: /private/\n\n"
        b"User-agent: AxisWatch\nDisallow: /drafts/\n\n"
        b"User-agent: otherbot\nDisallow: /\n\n"
        b"User-agent: crawler\nUser-agent: research\nDisallow: /\n\n"
        b"User-agent: axiswatch\nDisallow: /archive/\n"
    )
    paths = ["/news/1", "/private/x", "/drafts/x", "/archive/x"]
    # our User-Agent header says "... research crawler)": groups match its product token only
    fetcher = make_fetcher(user_agent="axiswatch/0.1 (media-monitoring research crawler)")
    assert _outcomes(loopback, fetcher, robots, paths) == {
        "/news/1": True,
        "/private/x": True,  # the `*` group is not ours: a group names us
        "/drafts/x": False,
        "/archive/x": False,  # the second `axiswatch` group merges into the first
    }


def test_a_robots_txt_without_our_group_or_star_allows_everything(
    loopback: LoopbackServer, make_fetcher: MakeFetcher
) -> None:
    robots = b"User-agent: otherbot\nDisallow: /\n"
    assert _outcomes(loopback, make_fetcher(), robots, ["/a", "/b/c"]) == {"/a": True, "/b/c": True}


def test_product_token_and_what_to_obey_for_each_answer() -> None:
    assert product_token("axiswatch/0.1 (media-monitoring research crawler)") == "axiswatch"
    assert product_token(" my_bot-x/2.0") == "my_bot-x"
    assert robots_text(200, None, "Disallow: /é\n".encode()) == "Disallow: /é\n"
    assert robots_text(404, "http_4xx", b"gone") == ALLOW_ALL
    assert robots_text(429, "http_4xx", b"") == DISALLOW_ALL
    assert robots_text(503, "http_5xx", b"") == DISALLOW_ALL
    assert robots_text(None, "timeout", b"") == DISALLOW_ALL
    assert robots_text(None, "blocked", b"") == ALLOW_ALL
