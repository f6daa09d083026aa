"""sources.toml: the shipped file is valid and complete; bad files fail fast with file:line."""

from __future__ import annotations

from pathlib import Path

import pytest

from flows.ingest.sources import KINDS, SourcesError, load_sources, parse_sources
from flows.settings import PROJECT_ROOT

GOOD = """
[[sources]]
id = "korea-herald"
name = "The Korea Herald"
feed_url = "https://www.koreaherald.com/common/rss_xml.php?ct=102"
country = "KR"
language = "en"
kind = "newspaper"

[[sources]]
id = "global-times"
name = "Global Times"
feed_url = "https://www.globaltimes.cn/rss/outbrain.xml"
country = "CN"
language = "en"
kind = "state-media"
affiliation = "state"
opinion_only = true
"""


def test_shipped_sources_cover_the_outlets_the_issue_names() -> None:
    sources = load_sources(PROJECT_ROOT / "seeds" / "sources.toml")
    ids = {s.id for s in sources}
    assert len(sources) >= 15
    for wanted in (
        "csis",
        "brookings",
        "carnegie",
        "lowy-interpreter",
        "east-asia-forum",
        "38-north",
        "korea-herald",
        "korea-joongang-daily",
        "hankyoreh-english",
        "yonhap-english",
        "korea-times",
        "global-times",
        "china-daily",
        "cgtn",
        "scmp-asia",
    ):
        assert wanted in ids
    assert {s.kind for s in sources} <= set(KINDS)
    assert {s.country for s in sources} >= {"KR", "CN", "US"}
    assert {s.language for s in sources} >= {"en", "ko", "zh"}
    assert all(s.feed_url.startswith(("http://", "https://")) for s in sources)


def test_good_file_parses_with_optional_keys() -> None:
    herald, gt = parse_sources(GOOD, "x.toml")
    assert herald.affiliation is None and herald.opinion_only is False and herald.enabled
    assert gt.affiliation == "state" and gt.opinion_only is True
    assert '"id": "global-times"' in gt.config_json()


@pytest.mark.parametrize(
    ("change", "line", "reason"),
    [
        (('kind = "state-media"', 'kind = "state-media"\ncolour = "red"'), 17, "unknown key 'colour'"),
        (('country = "CN"\n', ""), 10, "missing required key 'country'"),
        (
            ('id = "global-times"', 'id = "korea-herald"'),
            11,
            "duplicate id 'korea-herald' (first defined at line 3)",
        ),
        (
            ("https://www.globaltimes.cn", "ftp://www.globaltimes.cn"),
            13,
            "must start with http:// or https://",
        ),
        (("https://www.globaltimes.cn/rss/outbrain.xml", "https:///nohost"), 13, "has no host"),
        (('country = "CN"', 'country = "China"'), 14, "ISO 3166 alpha-2"),
        (('kind = "state-media"', 'kind = "tabloid"'), 16, "kind must be one of"),
        (("opinion_only = true", 'opinion_only = "yes"'), 18, "opinion_only must be true or false"),
        (('name = "Global Times"', 'name = "Global Times'), 12, "not valid TOML"),
    ],
)
def test_bad_file_names_file_line_and_reason(change: tuple[str, str], line: int, reason: str) -> None:
    text = GOOD.replace(*change, 1)
    assert text != GOOD
    with pytest.raises(SourcesError) as err:
        parse_sources(text, "bad.toml")
    message = str(err.value)
    assert message.startswith(f"bad.toml:{line}:"), message
    assert reason in message


def test_missing_and_non_utf8_files(tmp_path: Path) -> None:
    with pytest.raises(SourcesError, match="no such sources file"):
        load_sources(tmp_path / "absent.toml")
    bad = tmp_path / "latin1.toml"
    bad.write_bytes(GOOD.replace("Global", "Glöbal").encode("latin-1"))
    with pytest.raises(SourcesError, match="not UTF-8"):
        load_sources(bad)


def test_empty_file_and_stray_tables() -> None:
    with pytest.raises(SourcesError, match="no \\[\\[sources\\]\\] tables"):
        parse_sources("# nothing\n", "e.toml")
    with pytest.raises(SourcesError, match="unknown top-level key 'feeds'"):
        parse_sources(GOOD + "\n[feeds]\nx = 1\n", "e.toml")
