"""Warehouse views: known rows in, exact mart rows out; grains unique, keys set, duplicates folded."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import duckdb
import pytest

from models.labels import LABELS
from tests.conftest import BACKENDS
from warehouse import db

T0 = datetime(2026, 11, 1, tzinfo=UTC)

# view -> its grain (the columns one row is unique on); every view file must be listed here
GRAINS: dict[str, tuple[str, ...]] = {
    "stg_model_version": (),
    "stg_articles": ("article_id",),
    "stg_article_scores": ("article_id",),
    "stg_passage_scores": ("article_id", "ordinal"),
    "stg_entries": ("source_id", "guid"),
    "stg_feed_fetches": ("fetch_id",),
    "mart_weekly_stance_source": ("source_id", "week"),
    "mart_weekly_stance_group": ("group_kind", "group_value", "week"),
    "mart_coverage_funnel": ("source_id", "week"),
    "mart_weekly_topic": ("topic_id", "week"),
    "mart_weekly_stance_voice": ("country", "voice", "week"),
    "stg_series_articles": ("series_kind", "series_key", "article_id"),
    "mart_daily_stance_series": ("series_kind", "series_key", "day"),
    "mart_weekly_stance_series": ("series_kind", "series_key", "week"),
}


def ts(text: str) -> datetime:
    """An aware UTC datetime from 'YYYY-MM-DD HH:MM'."""
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=UTC)


def source(source_id: str, country: str, kind: str, affiliation: str | None) -> dict[str, Any]:
    return {
        "source_id": source_id,
        "name": source_id.upper(),
        "feed_url": f"http://127.0.0.1/{source_id}.xml",
        "country": country,
        "language": "en",
        "kind": kind,
        "affiliation": affiliation,
        "synced_at": T0,
    }


def article(
    article_id: str, source_id: str, published: str, duplicate_of: str | None = None
) -> dict[str, Any]:
    return {
        "article_id": article_id,
        "canonical_url": f"http://127.0.0.1/{article_id}",
        "url": f"http://127.0.0.1/{article_id}?utm=x",
        "source_id": source_id,
        "title": f"Title {article_id}",
        "published_at": ts(published),
        "text": "text " + article_id,
        "text_chars": 10,
        "text_hash": article_id,
        "duplicate_of": duplicate_of,
        "duplicate_kind": "exact" if duplicate_of else None,
        "extraction_method": "trafilatura",
        "extracted_at": ts(published),
    }


def score(article_id: str, version: str, value: float | None, label: str, relevant: float) -> dict[str, Any]:
    return {
        "article_id": article_id,
        "model_version": version,
        "score": value,
        "label": label,
        "confidence": 0.9,
        "relevant_share": relevant,
        "spread": 0.1,
        "n_passages": 2,
        "evidence_json": "[]",
        "scored_at": T0,
    }


def passage_score(article_id: str, ordinal: int, version: str, label: str) -> dict[str, Any]:
    probs = {name: 0.1 for name in LABELS} | {label: 0.7}
    return {
        "article_id": article_id,
        "ordinal": ordinal,
        "model_version": version,
        **{f"p_{name}": p for name, p in probs.items()},
        "label": label,
        "score": probs["washington"] - probs["beijing"],
        "encoder": "test",
        "scored_at": T0,
    }


def entry(
    source_id: str, guid: str, state: str, article_id: str | None, found: str = "2026-11-23 02:00"
) -> dict[str, Any]:
    return {
        "source_id": source_id,
        "guid": guid,
        "url": f"http://127.0.0.1/{guid}",
        "canonical_url": f"http://127.0.0.1/{guid}",
        "discovered_at": ts(found),
        "state": state,
        "article_id": article_id,
        "last_attempt_at": ts(found) if state != "new" else None,
    }


def feed_fetch(fetch_id: int, source_id: str, started: str, error: str | None) -> dict[str, Any]:
    return {
        "fetch_id": fetch_id,
        "source_id": source_id,
        "url": f"http://127.0.0.1/{source_id}.xml",
        "started_at": ts(started),
        "error_class": error,
    }


DUMMIES: dict[str, Any] = {"VARCHAR": "", "BLOB": b"", "BOOLEAN": False, "TIMESTAMP WITH TIME ZONE": T0}


def insert(con: duckdb.DuckDBPyConnection, table: str, rows: list[dict[str, Any]]) -> None:
    """Insert rows, filling NOT NULL columns these tests do not care about (e.g. dedup fingerprints)."""
    required = con.execute(
        "SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = ? AND NOT is_nullable "
        "AND coalesce(column_default, 'NULL') = 'NULL' AND database_name = current_database()",
        [table],
    ).fetchall()
    filled = [{c: DUMMIES.get(t, 0) for c, t in required} | row for row in rows]
    for keys in dict.fromkeys(tuple(sorted(r)) for r in filled):  # insert_rows takes the first row's columns
        db.insert_rows(con, table, [r for r in filled if tuple(sorted(r)) == keys])


def seed(con: duckdb.DuckDBPyConnection) -> None:
    """Known rows: three sources, weeks 2026-W47/W48 (Asia/Seoul), two model versions, duplicates."""
    # fmt: off
    insert(con, "sources", [
        source("kr1", "KR", "newspaper", "conservative"),
        source("kr2", "KR", "newspaper", None),
        source("cn1", "CN", "state_media", "state"),
    ])
    insert(con, "articles", [
        article("a1", "kr1", "2026-11-24 03:00"),
        article("a2", "kr1", "2026-11-25 03:00"),
        article("a3", "kr1", "2026-11-22 16:00"),  # Mon 23 Nov 01:00 KST: W48 in Seoul, W47 in UTC
        article("a4", "kr1", "2026-11-24 05:00", duplicate_of="a1"),
        article("a5", "kr2", "2026-11-18 03:00"),
        article("a6", "cn1", "2026-11-24 03:00"),
        article("a7", "cn1", "2026-11-24 04:00"),
        article("a8", "kr2", "2026-11-26 03:00"),
    ])
    insert(con, "passages", [
        {"article_id": a, "ordinal": o, "start_char": 0, "end_char": 5, "language": "en", "text": f"{a} p{o}"}
        for a in ("a1", "a4") for o in (0, 1)
    ])
    insert(con, "model_versions", [
        {"model_version": "m1", "created_at": ts("2026-11-01 00:00"), "card_json": "{}",
         "completed_at": ts("2026-11-01 00:00")},
        {"model_version": "m2", "created_at": ts("2026-11-20 00:00"), "card_json": "{}",
         "completed_at": ts("2026-11-20 00:00")},
    ])
    insert(con, "article_scores", [
        score("a1", "m1", -0.9, "beijing", 1.0),  # old model: ignored
        score("a7", "m1", 0.5, "washington", 1.0),  # scored by the old model only: unscored now
        score("a1", "m2", 0.6, "washington", 0.8),
        score("a2", "m2", 0.2, "hedge", 0.5),
        score("a3", "m2", None, "irrelevant", 0.0),
        score("a4", "m2", 0.9, "washington", 1.0),  # duplicate of a1: folded
        score("a5", "m2", -0.1, "hedge", 0.5),
        score("a6", "m2", -0.7, "beijing", 0.9),
        score("a8", "m2", 0.1, "hedge", 0.6),
    ])
    insert(con, "passage_scores", [
        passage_score("a1", 0, "m1", "beijing"),
        passage_score("a1", 0, "m2", "washington"),
        passage_score("a1", 1, "m2", "hedge"),
        passage_score("a4", 0, "m2", "washington"),
    ])
    insert(con, "topics", [
        {"topic_id": "thaad", "name": "THAAD", "dictionary_version": 1, "position": 0},
        {"topic_id": "tariffs", "name": "Tariffs", "dictionary_version": 1, "position": 1},
    ])
    insert(con, "article_topics", [
        {"article_id": a, "topic_id": t, "hits": 1, "dictionary_version": 1}
        for a, t in (("a1", "thaad"), ("a2", "thaad"), ("a3", "thaad"), ("a4", "thaad"), ("a6", "thaad"),
                     ("a5", "tariffs"), ("a7", "tariffs"))
    ])
    insert(con, "entries", [
        entry("kr1", "g1", "stored", "a1"), entry("kr1", "g2", "stored", "a2"),
        entry("kr1", "g3", "stored", "a3"), entry("kr1", "g4", "stored", "a4"),
        entry("kr1", "g5", "duplicate", "a1"), entry("kr1", "g6", "failed", None),
        entry("kr1", "g7", "gave_up", None), entry("kr1", "g8", "new", None),
    ])
    insert(con, "feed_fetches", [
        feed_fetch(1, "kr1", "2026-11-23 01:00", None),
        feed_fetch(2, "kr1", "2026-11-24 01:00", "timeout"),
        feed_fetch(3, "cn1", "2026-11-17 01:00", "http_status"),
    ])
    # fmt: on


def open_seeded(location: db.Location) -> duckdb.DuckDBPyConnection:
    """A fresh migrated warehouse (file or lake) holding the known rows."""
    connection = db.connect(location)
    db.migrate(connection)
    seed(connection)
    return connection


@pytest.fixture(scope="module", params=BACKENDS)
def con(
    request: pytest.FixtureRequest, new_warehouse: Callable[[str], db.Location]
) -> Iterator[duckdb.DuckDBPyConnection]:
    """The seeded warehouse shared by the tests that only read it, on each backend."""
    connection = open_seeded(new_warehouse(request.param))
    yield connection
    connection.close()


@pytest.fixture(params=BACKENDS)
def own_con(
    request: pytest.FixtureRequest, new_warehouse: Callable[[str], db.Location]
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A seeded warehouse of this test's own, for tests that change rows or session state."""
    connection = open_seeded(new_warehouse(request.param))
    yield connection
    connection.close()


def rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple[Any, ...]]:
    return con.execute(sql).fetchall()


def approx(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """Round floats so exact rows compare (NaN-free: NULL stays None)."""
    return tuple(round(v, 6) if isinstance(v, float) else v for v in row)


def test_every_view_file_states_its_grain_and_is_tested() -> None:
    files = sorted(db.VIEWS_DIR.glob("*.sql"))
    names = set()
    for file in files:
        text = file.read_text(encoding="utf-8")
        assert text.startswith("-- grain: "), f"{file.name} lacks a '-- grain:' header"
        created = re.findall(r"CREATE OR REPLACE VIEW (\w+)", text)
        assert len(created) == 1, f"{file.name} must create exactly one view"
        names.add(created[0])
    assert names == set(GRAINS)


@pytest.mark.parametrize("view", sorted(GRAINS))
def test_view_grain_is_unique_and_keys_not_null(con: duckdb.DuckDBPyConnection, view: str) -> None:
    grain = GRAINS[view]
    total = rows(con, f"SELECT count(*) FROM {view}")[0][0]
    assert total > 0, f"{view} is empty on the seeded warehouse"
    if not grain:
        assert total == 1
        return
    keys = ", ".join(grain)
    assert rows(con, f"SELECT {keys} FROM {view} GROUP BY {keys} HAVING count(*) > 1") == []
    nulls = " OR ".join(f"{k} IS NULL" for k in grain)
    assert rows(con, f"SELECT count(*) FROM {view} WHERE {nulls}") == [(0,)]


def test_labels_are_among_the_four(con: duckdb.DuckDBPyConnection) -> None:
    for view in ("stg_article_scores", "stg_passage_scores"):
        labels = {r[0] for r in rows(con, f"SELECT DISTINCT label FROM {view}")}
        assert labels and labels <= set(LABELS)


def test_stg_views_fold_duplicates_and_ignore_the_old_model(con: duckdb.DuckDBPyConnection) -> None:
    assert rows(con, "SELECT model_version, pinned_by FROM stg_model_version") == [("m2", "model_versions")]
    assert [r[0] for r in rows(con, "SELECT article_id FROM stg_articles ORDER BY 1")] == [
        "a1",
        "a2",
        "a3",
        "a5",
        "a6",
        "a7",
        "a8",
    ]
    scored = rows(con, "SELECT article_id, model_version, score FROM stg_article_scores ORDER BY 1")
    assert scored == [
        ("a1", "m2", 0.6),
        ("a2", "m2", 0.2),
        ("a3", "m2", None),
        ("a5", "m2", -0.1),
        ("a6", "m2", -0.7),
        ("a8", "m2", 0.1),
    ]
    passages = rows(con, "SELECT article_id, ordinal, label, text FROM stg_passage_scores ORDER BY 1, 2")
    assert passages == [("a1", 0, "washington", "a1 p0"), ("a1", 1, "hedge", "a1 p1")]


def test_only_a_registered_complete_version_is_pinned(own_con: duckdb.DuckDBPyConnection) -> None:
    con = own_con
    con.execute("UPDATE model_versions SET completed_at = NULL WHERE model_version = 'm2'")  # m2 in progress
    assert rows(con, "SELECT model_version FROM stg_model_version") == [("m1",)]
    assert rows(con, "SELECT DISTINCT model_version FROM stg_article_scores") == [("m1",)]
    con.execute("DELETE FROM model_versions")  # scores without a registered version are never shown
    assert rows(con, "SELECT count(*) FROM stg_model_version") == [(0,)]
    assert rows(con, "SELECT count(*) FROM stg_article_scores") == [(0,)]
    assert rows(con, "SELECT sum(n_scored) FROM mart_weekly_stance_source") in ([(0,)], [(None,)])


def test_mart_weekly_stance_source_rows(con: duckdb.DuckDBPyConnection) -> None:
    got = [approx(r) for r in rows(con, "SELECT * FROM mart_weekly_stance_source ORDER BY source_id, week")]
    std_kr1 = math.sqrt(((0.6 - 0.4) ** 2 + (0.2 - 0.4) ** 2) / 1)
    assert got == [
        approx(
            (
                "cn1",
                "CN1",
                "2026-W48",
                datetime(2026, 11, 23).date(),
                2,
                1,
                1,
                1.0,
                -0.7,
                None,
                0.0,
                0.0,
                1.0,
                0.0,
            )
        ),
        approx(
            (
                "kr1",
                "KR1",
                "2026-W48",
                datetime(2026, 11, 23).date(),
                3,
                3,
                2,
                2 / 3,
                0.4,
                std_kr1,
                1 / 3,
                1 / 3,
                0.0,
                1 / 3,
            )
        ),
        approx(
            (
                "kr2",
                "KR2",
                "2026-W47",
                datetime(2026, 11, 16).date(),
                1,
                1,
                1,
                1.0,
                -0.1,
                None,
                0.0,
                1.0,
                0.0,
                0.0,
            )
        ),
        approx(
            (
                "kr2",
                "KR2",
                "2026-W48",
                datetime(2026, 11, 23).date(),
                1,
                1,
                1,
                1.0,
                0.1,
                None,
                0.0,
                1.0,
                0.0,
                0.0,
            )
        ),
    ]


def test_mart_weekly_stance_group_rows(con: duckdb.DuckDBPyConnection) -> None:
    sql = """SELECT group_kind, group_value, week, n_sources, n_articles, n_scored, n_relevant,
                    mean_score, share_hedge
             FROM mart_weekly_stance_group ORDER BY group_kind, group_value, week"""
    got = [approx(r) for r in rows(con, sql)]
    assert got == [
        approx(r)
        for r in [
            ("affiliation", "(none)", "2026-W47", 1, 1, 1, 1, -0.1, 1.0),
            ("affiliation", "(none)", "2026-W48", 1, 1, 1, 1, 0.1, 1.0),
            ("affiliation", "conservative", "2026-W48", 1, 3, 3, 2, 0.4, 1 / 3),
            ("affiliation", "state", "2026-W48", 1, 2, 1, 1, -0.7, 0.0),
            ("country", "CN", "2026-W48", 1, 2, 1, 1, -0.7, 0.0),
            ("country", "KR", "2026-W47", 1, 1, 1, 1, -0.1, 1.0),
            ("country", "KR", "2026-W48", 2, 4, 4, 3, 0.3, 2 / 4),
            ("kind", "newspaper", "2026-W47", 1, 1, 1, 1, -0.1, 1.0),
            ("kind", "newspaper", "2026-W48", 2, 4, 4, 3, 0.3, 2 / 4),
            ("kind", "state_media", "2026-W48", 1, 2, 1, 1, -0.7, 0.0),
        ]
    ]


def test_mart_coverage_funnel_rows(con: duckdb.DuckDBPyConnection) -> None:
    sql = """SELECT source_id, week, discovered, fetched, extracted, duplicates, scored, failed_entries,
                    pending, feed_fetches, failed_fetches, failed
             FROM mart_coverage_funnel ORDER BY source_id, week"""
    assert rows(con, sql) == [
        ("cn1", "2026-W47", 0, 0, 0, 0, 0, 0, 0, 1, 1, 1),
        ("kr1", "2026-W48", 8, 5, 4, 1, 3, 2, 1, 2, 1, 3),
    ]


def test_weeks_follow_the_session_timezone_variable(own_con: duckdb.DuckDBPyConnection) -> None:
    con = own_con
    sql = "SELECT week, week_start FROM stg_articles WHERE article_id = 'a3'"
    assert rows(con, sql) == [("2026-W48", datetime(2026, 11, 23).date())]
    con.execute("SET VARIABLE axiswatch_tz = 'UTC'")
    assert rows(con, sql) == [("2026-W47", datetime(2026, 11, 16).date())]
    kr1 = rows(
        con, "SELECT week, n_articles FROM mart_weekly_stance_source WHERE source_id = 'kr1' ORDER BY 1"
    )
    assert kr1 == [("2026-W47", 1), ("2026-W48", 2)]
