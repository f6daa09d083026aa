"""Duplicate keys: canonical URLs, exact text hashes (near duplicates: test_neardup)."""

from __future__ import annotations

import pytest

from flows.ingest.text import canonical_url, text_hash


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("HTTP://Example.COM:80/a/b?utm_source=x&b=2&a=1#frag", "http://example.com/a/b?a=1&b=2"),
        ("https://example.com:443", "https://example.com/"),
        ("https://example.com?", "https://example.com/"),
        ("https://example.com/a?", "https://example.com/a"),
        ("https://example.com:8080/x", "https://example.com:8080/x"),
        ("https://example.com./a", "https://example.com/a"),
        ("  https://example.com/a  ", "https://example.com/a"),
        ("https://www.example.com/path/../other/./x?fbclid=abc", "https://www.example.com/other/x"),
        ("https://example.com/a/", "https://example.com/a/"),
        ("https://example.com/%7euser/%e2%82%ac", "https://example.com/~user/%E2%82%AC"),
        ("https://example.com/a%2fb", "https://example.com/a%2Fb"),
        ("https://example.com/a b", "https://example.com/a%20b"),
        ("https://example.com/a%", "https://example.com/a%25"),
        ("https://example.com/a?q=%e2%82%ac", "https://example.com/a?q=%E2%82%AC"),
        ("https://example.com/a?q=€", "https://example.com/a?q=%E2%82%AC"),
        ("https://example.com/a?q=%7e", "https://example.com/a?q=~"),
        ("https://BÜCHER.example/ü", "https://xn--bcher-kva.example/%C3%BC"),
        ("https://한국.kr/기사?id=1", "https://xn--3e0b707e.kr/%EA%B8%B0%EC%82%AC?id=1"),
        ("http://[2001:DB8::1]:80/x", "http://[2001:db8::1]/x"),
        ("https://example.com/a?x=1&&y=2", "https://example.com/a?x=1&y=2"),
        ("https://example.com/a;jsessionid=ABC123?id=7", "https://example.com/a?id=7"),
        (
            "https://example.com/a?ref=home&REF_SRC=tw&UTM_Medium=e&id=5&gclid=1&mc_cid=1"
            "&mc_eid=2&igshid=3&cmpid=4&ocid=5&dclid=6&msclkid=7&_ga=8",
            "https://example.com/a?id=5",
        ),
        ("https://example.com/a?utm_source=rss&utm_campaign=x", "https://example.com/a"),
        ("https://example.com/a?z=1&y=2&x=3", "https://example.com/a?x=3&y=2&z=1"),
        ("https://example.com/a?referrer=keep", "https://example.com/a?referrer=keep"),
    ],
)
def test_canonical_url(url: str, expected: str) -> None:
    assert canonical_url(url) == expected
    assert canonical_url(expected) == expected  # idempotent


def test_canonical_url_unifies_variants_of_one_article() -> None:
    variants = [
        "https://news.example.com/opinion/seoul?utm_source=rss&utm_medium=feed",
        "https://NEWS.example.com:443/opinion/seoul#comments",
        "https://news.example.com/opinion/./seoul?fbclid=IwAR0",
        "https://news.example.com/opinion/%73eoul",
    ]
    assert len({canonical_url(v) for v in variants}) == 1


def test_text_hash_normalises_whitespace_and_width() -> None:
    assert text_hash("Ｓｅｏｕｌ  is\n anchoring\u00a0itself ") == text_hash("Seoul is anchoring itself")
    assert text_hash("Seoul is anchoring itself") != text_hash("Seoul is anchoring itself.")
    assert len(text_hash("")) == 64
