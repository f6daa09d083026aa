"""Article extraction: trafilatura wrapper, feed content, the process pool and its budget."""

from __future__ import annotations

import gzip
import json
import os
import time
from collections.abc import Mapping
from datetime import UTC, datetime

import pytest

from flows.ingest.extract import (
    Extracted,
    ExtractionError,
    decode_html,
    extract_article,
    extract_page,
    text_from_feed_content,
)
from flows.ingest.extract_pool import Extractor
from flows.settings import Settings
from flows.tools.demo_site import BENCH_DIR
from tests.extraction_quality import benchmark_metrics, shingle_match

if os.environ.get("AXISWATCH_TEST_BREAK_WORKER_IMPORT"):
    # Set only inside test_extractor_gives_up_when_workers_cannot_start, after this module was
    # imported: spawned workers import it to unpickle slow_or_real_page and die before ready.
    raise SystemExit(7)

BENCHMARK = BENCH_DIR  # the benchmark copy committed under seeds/demo (from ../shared/corpus)
HTML_HEADERS = {"content-type": "text/html"}

ARTICLE_HTML = """<!DOCTYPE html>
<html lang="en-GB"><head><meta charset="utf-8">
<title>Seoul weighs its options | The Example Times</title>
<meta property="og:site_name" content="The Example Times">
<meta property="og:title" content="Seoul weighs its options between Washington and Beijing">
<meta name="author" content="Jane Doe">
<meta property="article:published_time" content="2025-12-03T08:30:00+09:00">
</head><body>
<nav><a href="/">Home</a> <a href="/world">World</a> <a href="/asia">Asia</a></nav>
<article><h1>Seoul weighs its options between Washington and Beijing</h1>
<p>South Korea's government said on Tuesday that it would deepen its alliance with the
United States while keeping open its channels of trade with China, its largest partner.</p>
<p>Officials in Seoul described the approach as a careful balance, arguing that the country
cannot afford to antagonise either power at a time of rising tension in the region.</p>
<p>Critics in the opposition said the policy lacked clarity and warned that strategic
ambiguity would leave the country exposed when a real crisis arrives in the peninsula.</p>
</article>
<footer>Copyright 2025 The Example Times. All rights reserved.</footer>
</body></html>"""


# ---------------------------------------------------------------------------- helpers for the pool


def slow_or_real_page(body: bytes, headers: Mapping[str, str], url: str) -> Extracted:
    """Test page function: b"SLEEP" sleeps far past any budget, b"CRASH" kills the worker."""
    if body.startswith(b"SLEEP"):
        time.sleep(120)
    if body.startswith(b"CRASH"):
        os._exit(3)
    return extract_page(body, headers, url)


def _settings(**changes: object) -> Settings:
    """Settings with a small pool for tests."""
    return Settings().replace(**({"extract_workers": 2} | changes))


# ---------------------------------------------------------------------------- extract_article


def test_extract_article_text_and_metadata() -> None:
    result = extract_article(ARTICLE_HTML, "https://example.com/world/seoul-options")
    assert result is not None
    lines = result.text.split("\n")
    assert any(line.startswith("South Korea's government said on Tuesday") for line in lines)
    assert any(line.startswith("Critics in the opposition") for line in lines)
    assert "Copyright" not in result.text and "Home" not in lines
    assert all(line == " ".join(line.split()) and line for line in lines)
    assert result.author == "Jane Doe"
    assert result.site_name == "The Example Times"
    assert result.title is not None and "Seoul weighs its options" in result.title
    assert result.published_at == datetime(2025, 12, 2, 23, 30, tzinfo=UTC)
    assert result.language == "en"
    assert result.method == "trafilatura"


def test_extract_article_none_without_main_text() -> None:
    html = "<html><head><title>Only a title</title></head><body><script>x()</script></body></html>"
    assert extract_article(html, "https://e.com/") is None


def test_language_from_script_overrides_wrong_html_lang() -> None:
    paragraph = "한국 정부는 미국과의 동맹을 강화하면서도 중국과의 교역 통로를 열어 두겠다고 밝혔다. " * 4
    html = f"<html lang='en'><body><article><p>{paragraph}</p><p>{paragraph}</p></article></body></html>"
    result = extract_article(html, "https://example.kr/a")
    assert result is not None
    assert result.language == "ko"


def test_extract_article_ignores_xml_declaration_in_text() -> None:
    html = '<?xml version="1.0" encoding="euc-kr"?>' + ARTICLE_HTML
    result = extract_article(html, "https://example.com/a")
    assert result is not None and "careful balance" in result.text


# ---------------------------------------------------------------------------- feed content


def test_text_from_feed_content_paragraphs() -> None:
    html = (
        "<p>First  paragraph\n with a <a href='x'>link</a>.</p><script>var x=1;</script>"
        "<p>Second<br>line after break</p><ul><li>one</li><li>two</li></ul><h2>Heading</h2>tail text"
    )
    assert text_from_feed_content(html) == (
        "First paragraph with a link.\nSecond\nline after break\none\ntwo\nHeading\ntail text"
    )


def test_text_from_feed_content_plain_text_and_empty() -> None:
    assert text_from_feed_content("Line one &amp; more\n\n  Line two  ") == "Line one & more\nLine two"
    assert text_from_feed_content("   ") == ""


def test_text_from_feed_content_deep_nesting() -> None:
    html = "<div>" * 5000 + "<p>deep text</p>" + "</div>" * 5000
    assert isinstance(text_from_feed_content(html), str)


# ---------------------------------------------------------------------------- extract_page errors


def test_extract_page_binary_body_is_decoding_error() -> None:
    with pytest.raises(ExtractionError) as info:
        extract_page(b"%PDF-1.7\x00\x00\x01\x02binary", {"content-type": "text/html"}, "https://e.com/x")
    assert info.value.error_class == "decoding"


def test_extract_page_empty_page() -> None:
    with pytest.raises(ExtractionError) as info:
        extract_page(b"<html><body></body></html>", HTML_HEADERS, "https://e.com/x")
    assert info.value.error_class == "extract_empty"


def test_extract_page_records_encoding() -> None:
    body = ARTICLE_HTML.replace('<meta charset="utf-8">', '<meta charset="euc-kr">').encode("cp949")
    result = extract_page(body, HTML_HEADERS, "https://e.com/x")
    assert result.encoding == "cp949"


# ---------------------------------------------------------------------------- the pool


def test_extractor_preserves_order_and_reports_errors() -> None:
    pages: list[tuple[bytes, Mapping[str, str], str]] = [
        (ARTICLE_HTML.encode(), HTML_HEADERS, "https://e.com/1"),
        (b"<html><body></body></html>", HTML_HEADERS, "https://e.com/2"),
        (b"x" * 2048, HTML_HEADERS, "https://e.com/3"),
        (
            ARTICLE_HTML.replace("careful balance", "delicate balance").encode(),
            HTML_HEADERS,
            "https://e.com/4",
        ),
    ]
    with Extractor(_settings(max_body_bytes=1024 * 1024)) as extractor:
        results = extractor.extract_many(pages)
        again = extractor.extract_many(pages[:1])
    assert isinstance(results[0], Extracted) and "careful balance" in results[0].text
    assert isinstance(results[1], ExtractionError) and results[1].error_class == "extract_empty"
    assert isinstance(results[3], Extracted) and "delicate balance" in results[3].text
    assert isinstance(again[0], Extracted)


def test_extractor_caps_body_size_before_parsing() -> None:
    big = b"<html><body><p>" + b"word " * 1000 + b"</p></body></html>"
    with Extractor(_settings(max_body_bytes=1000)) as extractor:
        (result,) = extractor.extract_many([(big, HTML_HEADERS, "https://e.com/big")])
    assert isinstance(result, ExtractionError) and result.error_class == "too_large"


def test_extractor_kills_stuck_worker_and_keeps_going() -> None:
    good = (ARTICLE_HTML.encode(), HTML_HEADERS, "https://e.com/ok")
    pages = [good, (b"SLEEP", HTML_HEADERS, "https://e.com/slow"), good, good]
    with Extractor(_settings(extract_timeout_seconds=1.0), page_fn=slow_or_real_page) as extractor:
        extractor.extract_many([good])
        before = {w.proc.pid: w.proc for w in extractor._workers}
        started = time.monotonic()
        results = extractor.extract_many(pages)
        elapsed = time.monotonic() - started
        after = {w.proc.pid for w in extractor._workers}
        again = extractor.extract_many([good, good])
    assert isinstance(results[1], ExtractionError) and results[1].error_class == "extract_timeout"
    assert all(isinstance(results[i], Extracted) for i in (0, 2, 3))
    assert all(isinstance(r, Extracted) for r in again)
    killed = set(before) - after
    assert len(killed) == 1 and len(after) == 2, "exactly the stuck worker is replaced"
    assert not before[killed.pop()].is_alive()
    assert elapsed < 30, "the stuck page held the pool far past its budget"


def test_extractor_survives_worker_crash() -> None:
    good = (ARTICLE_HTML.encode(), HTML_HEADERS, "https://e.com/ok")
    pages = [(b"CRASH", HTML_HEADERS, "https://e.com/crash"), good, good]
    with Extractor(_settings(extract_workers=1), page_fn=slow_or_real_page) as extractor:
        results = extractor.extract_many(pages)
    assert isinstance(results[0], ExtractionError) and results[0].error_class == "extract_failed"
    assert "exit code 3" in results[0].message
    assert all(isinstance(r, Extracted) for r in results[1:])


def test_extractor_gives_up_when_workers_cannot_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AXISWATCH_TEST_BREAK_WORKER_IMPORT", "1")
    good = (ARTICLE_HTML.encode(), HTML_HEADERS, "https://e.com/ok")
    with Extractor(_settings(extract_workers=1), page_fn=slow_or_real_page) as extractor:
        results = extractor.extract_many([good, good])
    assert all(isinstance(r, ExtractionError) and r.error_class == "extract_failed" for r in results)
    assert "failed to start (exit code 7)" in str(results[0])


def test_extractor_real_slow_page_hits_budget() -> None:
    # A 2 MB page of 20k blocks takes trafilatura several seconds: no hook involved.
    blocks = "".join(
        f"<div><p>Paragraph {i} of a very long page.</p><a href='/x{i}'>l</a></div>" for i in range(20000)
    )
    slow = f"<html><body>{blocks}</body></html>".encode()
    with Extractor(_settings(extract_timeout_seconds=0.5)) as extractor:
        results = extractor.extract_many([(slow, HTML_HEADERS, "https://e.com/slow")])
    assert isinstance(results[0], ExtractionError) and results[0].error_class == "extract_timeout"


def test_extractor_deeply_nested_pages() -> None:
    def nested(depth: int) -> bytes:
        return ("<html><body>" + "<div>" * depth + "<p>" + "text " * 100 + "</p>" + "</div>" * depth).encode()

    pages = [(nested(d), HTML_HEADERS, f"https://e.com/deep{d}") for d in (1000, 50000)]
    with Extractor(_settings(extract_timeout_seconds=20)) as extractor:
        beyond_libxml2_limit, absurd = extractor.extract_many(pages)
    assert isinstance(beyond_libxml2_limit, Extracted)
    assert beyond_libxml2_limit.text.startswith("text text")
    assert isinstance(absurd, Extracted) or absurd.error_class in ("extract_empty", "extract_failed")


# ---------------------------------------------------------------------------- benchmark metric


def test_metric_on_known_cases() -> None:
    assert shingle_match("a b c d e", "a b c d e") == (1.0, 0.0, 0.0)
    # true 4-grams: (a b c d), (b c d e); predicted: (a b c d), (b c d x) -> tp 1, fp 1, fn 1
    assert shingle_match("a b c d e", "a, b; c d x") == pytest.approx((1 / 3, 1 / 3, 1 / 3))
    assert shingle_match("a b c d", "") == (0.0, 0.0, 1.0)
    metrics = benchmark_metrics([(1.0, 0.0, 0.0), (0.5, 0.5, 0.0), (0.5, 0.0, 0.5)])
    assert metrics["precision"] == pytest.approx((1 + 0.5 + 1) / 3)
    assert metrics["recall"] == pytest.approx((1 + 1 + 0.5) / 3)
    assert metrics["f1"] == pytest.approx(2.5 / 3)


@pytest.mark.skipif(not BENCHMARK.exists(), reason="shared article-extraction benchmark not present")
def test_benchmark_quality_through_bytes_path() -> None:
    truth = json.loads((BENCHMARK / "ground-truth.json").read_text(encoding="utf-8"))
    keys = sorted(truth)
    pages = [
        (gzip.decompress((BENCHMARK / "html" / f"{k}.html.gz").read_bytes()), HTML_HEADERS, truth[k]["url"])
        for k in keys
    ]
    with Extractor(_settings(extract_timeout_seconds=30)) as extractor:
        results = extractor.extract_many(pages)
    texts = [r.text if isinstance(r, Extracted) else "" for r in results]
    for (body, headers, _), text in zip(pages[:5], texts[:5], strict=True):
        assert decode_html(body, headers)[1] == "utf-8" and text
    metrics = benchmark_metrics(
        [shingle_match(truth[k]["articleBody"], t) for k, t in zip(keys, texts, strict=True)]
    )
    print(f"benchmark: {metrics}")
    assert len(keys) == 181
    assert metrics["f1"] >= 0.95, metrics
