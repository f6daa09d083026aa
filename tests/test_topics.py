"""Topic tags: the trilingual dictionary, matching on normalised text, idempotent tagging, the mart."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from flows.settings import SEEDS_DIR
from tests.test_views import approx, open_seeded
from warehouse.search_index import refresh_fts
from warehouse.search_text import search_text
from warehouse.topics import (
    LANGUAGES,
    TopicsError,
    article_topics,
    compile_topics,
    load_dictionary,
    tag_topics,
)

DICTIONARY = load_dictionary(SEEDS_DIR / "topics.toml")
REQUIRED = {"thaad", "tariffs", "chips", "taiwan", "north_korea", "summits", "usfk", "trilateral", "coercion"}


def tagged(text: str) -> dict[str, int]:
    return article_topics(compile_topics(DICTIONARY), search_text(text))


def test_dictionary_is_versioned_and_trilingual() -> None:
    assert isinstance(DICTIONARY["version"], int)
    ids = {t["id"] for t in DICTIONARY["topics"]}
    assert ids >= REQUIRED
    for topic in DICTIONARY["topics"]:
        assert all(topic.get(lang) for lang in LANGUAGES), topic["id"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("중국은 사드가 안보를 해친다고 주장했다.", {"thaad"}),  # particle attached
        ("美国要求增设萨德系统。", {"thaad"}),  # unsegmented Chinese
        ("New TARIFFS on cars", {"tariffs"}),  # case and the tariff* prefix
        ("주한미군의 방위비 분담금 협상", {"usfk"}),
        ("一旦台湾海峡发生冲突", {"taiwan"}),
        ("North Korean missiles and Pyongyang's launch", {"north_korea"}),
        ("Microchips in the kitchen, a sushi bar", set()),  # chip* needs a word start
        ("한미일 정상회담이 열렸다", {"trilateral", "summits"}),
        ("中国对韩国实施经济胁迫，限韩令重现", {"coercion"}),
    ],
)
def test_terms_match_on_normalised_text(text: str, expected: set[str]) -> None:
    assert set(tagged(text)) == expected


def test_bad_dictionary_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "t.toml"
    bad.write_text('version = 1\n[[topics]]\nid = "x"\nname = "X"\n', encoding="utf-8")
    with pytest.raises(TopicsError, match="en/ko/zh"):
        load_dictionary(bad)
    bad.write_text("topics = [", encoding="utf-8")
    with pytest.raises(TopicsError):
        load_dictionary(bad)


def _article(aid: str, title: str, text: str) -> dict[str, Any]:
    return {"article_id": aid, "title": title, "text": text}


def test_tagging_is_idempotent_and_follows_dictionary_changes(tmp_path: Path) -> None:
    con = open_seeded(tmp_path / "w.duckdb")
    con.execute("DELETE FROM article_topics")
    con.execute(
        "UPDATE articles SET title = '사드 배치', text = '성주에 사드를 더 배치한다.' WHERE article_id = 'a1'"
    )
    con.execute(
        "UPDATE articles SET title = 'Chips', text = 'Export controls on chips.' WHERE article_id = 'a2'"
    )
    refresh_fts(con)
    assert tag_topics(con, DICTIONARY) == 8
    first = con.execute("SELECT * FROM article_topics ORDER BY ALL").fetchall()
    assert [(r[0], r[1]) for r in first] == [("a1", "thaad"), ("a2", "chips")]
    assert first[0][2] == 3  # 사드 twice, 성주 once
    assert tag_topics(con, DICTIONARY) == 0
    assert con.execute("SELECT * FROM article_topics ORDER BY ALL").fetchall() == first
    smaller = DICTIONARY | {"version": 2, "topics": [t for t in DICTIONARY["topics"] if t["id"] != "chips"]}
    assert tag_topics(con, smaller) == 8
    assert con.execute("SELECT article_id, topic_id, dictionary_version FROM article_topics").fetchall() == [
        ("a1", "thaad", 2)
    ]
    assert con.execute("SELECT count(*) FROM topics WHERE topic_id = 'chips'").fetchone() == (0,)


def test_mart_weekly_topic_rows(tmp_path: Path) -> None:
    con = open_seeded(tmp_path / "w.duckdb")
    got = [
        approx(r) for r in con.execute("SELECT * FROM mart_weekly_topic ORDER BY topic_id, week").fetchall()
    ]
    assert [r[:3] for r in got] == [
        ("tariffs", "Tariffs", "2026-W47"),
        ("tariffs", "Tariffs", "2026-W48"),
        ("thaad", "THAAD", "2026-W48"),
    ]
    assert [r[4:] for r in got] == [
        (1, 1, 1, 1.0, 1.0, -0.1, 0, 1, 0),
        (1, 0, 0, approx((1 / 6,))[0], 0.0, None, 0, 0, 0),
        (4, 4, 3, approx((4 / 6,))[0], 0.75, approx(((0.6 + 0.2 - 0.7) / 3,))[0], 1, 1, 1),
    ]
