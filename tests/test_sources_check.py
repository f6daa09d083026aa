"""`axiswatch sources check`: offline validation with a summary, linear time, URL edges (issue 16)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from flows.cli.commands import main
from flows.ingest.sources import SourcesError, load_sources, parse_sources


def source_block(n: int, url: str | None = None) -> str:
    """One [[sources]] table (8 lines) with a distinct id."""
    kind = ("newspaper", "blog", "wire")[n % 3]
    country, language = (("KR", "ko"), ("CN", "zh"), ("US", "en"))[n % 3]
    return (
        f'[[sources]]\nid = "outlet-{n}"\nname = "Outlet {n}"\n'
        f'feed_url = "{url or f"https://feeds{n % 50}.example.com/{n}.xml"}"\n'
        f'country = "{country}"\nlanguage = "{language}"\nkind = "{kind}"\n\n'
    )


def test_ten_thousand_sources_validate_in_linear_time(tmp_path: Path) -> None:
    text = "".join(source_block(n) for n in range(10_000))
    started = time.perf_counter()
    sources = parse_sources(text, "big.toml")
    elapsed = time.perf_counter() - started
    assert len(sources) == 10_000
    # quadratic validation took ~40 s here; linear takes well under a second (bound generous for a shared CI)
    assert elapsed < 8.0, f"10,000 sources took {elapsed:.2f}s"  # quadratic took ~40 s; 2.6 s seen at load 10
    bad = text + source_block(10_000, url="http://[::1")
    with pytest.raises(SourcesError, match=r"^big.toml:80004: feed_url"):
        parse_sources(bad, "big.toml")


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://[::1", "not a valid URL"),
        ("http://example.com:99999/feed", "not a valid URL"),
        ("http://example.com:0/feed", "port must be 1-65535"),
        (" https://example.com/feed", "spaces or control characters"),
        ("https://example.com/feed ", "spaces or control characters"),
        ("https://exa mple.com/feed", "spaces or control characters"),
        ("ftp://example.com/feed", "must start with http"),
        ("https:///feed", "has no host"),
    ],
)
def test_bad_urls_name_file_and_line(url: str, reason: str) -> None:
    text = source_block(0) + source_block(1, url=url)
    with pytest.raises(SourcesError) as caught:
        parse_sources(text, "s.toml")
    message = str(caught.value)
    assert message.startswith("s.toml:12: feed_url") and reason in message and "\n" not in message


def test_check_command_summarises_without_network_or_warehouse(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "sources.toml"
    path.write_text("".join(source_block(n) for n in range(5)))
    data = tmp_path / "data"
    code = main(["sources", "check", str(path), "--data-dir", str(data)])
    out, err = capsys.readouterr()
    assert code == 0 and err == ""
    assert f"{path}: 5 sources valid (5 enabled)" in out
    assert "by country: CN 2, KR 2, US 1" in out and "by kind: blog 2, newspaper 2, wire 1" in out
    assert not data.exists()  # no warehouse, no data directory touched
    path.write_text(source_block(0) + source_block(1, url="http://example.com:99999/"))
    code = main(["sources", "check", str(path)])
    _, err = capsys.readouterr()
    assert code == 2 and err.startswith(f"axiswatch: {path}:12: feed_url") and err.count("\n") == 1


def test_check_defaults_to_the_shipped_file(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["sources", "check"])
    out, _ = capsys.readouterr()
    assert code == 0 and "sources valid" in out
    assert len(load_sources(Path(out.split(":")[0]))) >= 15
