"""Stance series views: the report's index per day and week for every series kind, with n."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from tests.test_views import approx, open_seeded, rows


@pytest.fixture(scope="module")
def con(tmp_path_factory: pytest.TempPathFactory) -> Iterator[duckdb.DuckDBPyConnection]:
    """The seeded warehouse of the view tests (a DuckDB file)."""
    connection = open_seeded(Path(tmp_path_factory.mktemp("series")) / "w.duckdb")
    yield connection
    connection.close()


def test_series_members_fold_duplicates_and_skip_abstentions(con: duckdb.DuckDBPyConnection) -> None:
    got = rows(con, "SELECT article_id FROM stg_series_articles WHERE series_kind = 'all' ORDER BY 1")
    assert [r[0] for r in got] == ["a1", "a2", "a5", "a6", "a8"]  # a3 abstains, a4 a copy, a7 unscored


def test_daily_source_series_rows(con: duckdb.DuckDBPyConnection) -> None:
    got = rows(
        con,
        "SELECT series_key, CAST(day AS VARCHAR), n_relevant, stance_index FROM mart_daily_stance_series "
        "WHERE series_kind = 'source' ORDER BY 1, 2",
    )
    assert [approx(r) for r in got] == [
        ("cn1", "2026-11-24", 1, -0.7),
        ("kr1", "2026-11-24", 1, 0.6),
        ("kr1", "2026-11-25", 1, 0.2),
        ("kr2", "2026-11-18", 1, -0.1),
        ("kr2", "2026-11-26", 1, 0.1),
    ]


def test_weekly_group_series_equal_the_group_mart(con: duckdb.DuckDBPyConnection) -> None:
    for kind in ("country", "kind"):
        series = rows(
            con,
            "SELECT series_key, week, n_relevant, stance_index FROM mart_weekly_stance_series "
            f"WHERE series_kind = '{kind}' ORDER BY 1, 2",
        )
        mart = rows(
            con,
            "SELECT group_value, week, n_relevant, mean_score FROM mart_weekly_stance_group "
            f"WHERE group_kind = '{kind}' AND n_relevant > 0 ORDER BY 1, 2",
        )
        assert [approx(r) for r in series] == [approx(r) for r in mart]


def test_weekly_all_series_is_the_report_index(con: duckdb.DuckDBPyConnection) -> None:
    got = rows(
        con, "SELECT week, n_relevant, stance_index FROM mart_weekly_stance_series WHERE series_kind = 'all'"
    )
    assert sorted(approx(r) for r in got) == [("2026-W47", 1, -0.1), ("2026-W48", 4, 0.05)]


def test_topic_and_language_series(con: duckdb.DuckDBPyConnection) -> None:
    topics = rows(
        con,
        "SELECT series_key, n_relevant, stance_index FROM mart_weekly_stance_series "
        "WHERE series_kind = 'topic' ORDER BY 1",
    )
    assert [approx(r) for r in topics] == [("tariffs", 1, -0.1), ("thaad", 3, 0.033333)]
    langs = rows(con, "SELECT DISTINCT series_key FROM stg_series_articles WHERE series_kind = 'language'")
    assert langs == [("en",)]


def test_voice_series_weights_passages_by_relevance(con: duckdb.DuckDBPyConnection) -> None:
    got = rows(
        con, "SELECT series_key, article_id, score FROM stg_series_articles WHERE series_kind = 'voice'"
    )
    # a1's two kept passages (washington 0.6, hedge 0.0, relevance 0.9 each); a4 is a copy
    assert [approx(r) for r in got] == [("(unread)", "a1", 0.3)]
