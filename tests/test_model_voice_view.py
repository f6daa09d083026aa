"""passage_scores.voice (migration 004) and mart_weekly_stance_voice: stance by who is speaking."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from flows.score.stage import score_rows
from models.classifier import Prediction, StanceClassifier
from tests.test_views import T0, insert, open_seeded, passage_score, rows, ts
from warehouse.score_ops import ArticleToScore


def test_voice_mart_counts_voices_by_outlet_country_and_ignores_unsure_passages(tmp_path: Path) -> None:
    con = open_seeded(tmp_path / "w.duckdb")
    card = json.dumps({"abstention": {"threshold": 0.5}})
    insert(
        con,
        "model_versions",
        [
            {
                "model_version": "m3",
                "created_at": ts("2026-11-28 00:00"),
                "card_json": card,
                "completed_at": ts("2026-11-28 00:00"),
            }
        ],
    )
    unsure = passage_score("a6", 1, "m3", "washington") | {
        "p_washington": 0.4,
        "p_hedge": 0.3,
        "p_beijing": 0.2,
    }
    insert(con, "passage_scores", [
        passage_score("a1", 0, "m3", "beijing") | {"voice": "beijing"},  # KR outlet quoting Beijing
        passage_score("a2", 0, "m3", "washington") | {"voice": "beijing"},
        passage_score("a1", 1, "m3", "hedge") | {"voice": "author"},
        passage_score("a6", 0, "m3", "beijing") | {"voice": "author"},  # CN outlet
        unsure | {"voice": "author", "p_irrelevant": 0.1, "score": 0.2},
    ])  # fmt: skip
    got = rows(
        con,
        "SELECT country, voice, week, n_passages, n_ignored, n_relevant, round(mean_score, 3),"
        " share_beijing FROM mart_weekly_stance_voice ORDER BY ALL",
    )
    assert got == [
        ("CN", "author", "2026-W48", 2, 1, 1, -0.6, 1.0),
        ("KR", "author", "2026-W48", 1, 0, 1, 0.0, 0.0),
        ("KR", "beijing", "2026-W48", 2, 0, 2, 0.0, 0.5),
    ]
    con.close()


def test_passage_voice_column_is_added_by_a_new_migration(tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    from warehouse import db

    db.migrate(con)
    columns = {
        r[0]
        for r in rows(con, "SELECT column_name FROM duckdb_columns() WHERE table_name = 'passage_scores'")
    }
    assert "voice" in columns
    versions = [r[0] for r in rows(con, "SELECT version FROM schema_migrations ORDER BY version")]
    assert any(str(v).startswith("004") or str(v) == "4" for v in versions)
    with pytest.raises(duckdb.Error):
        con.execute("ALTER TABLE passage_scores ADD COLUMN voice VARCHAR")
    con.close()


class _Model:
    """A stand-in classifier: every passage is Beijing-voiced; the second one is unsure."""

    version = "stance-000000000000"
    abstain_below = 0.5
    article_rules: tuple[str, ...] = ()
    article_score = StanceClassifier.article_score

    def predict_passages(self, texts: list[str]) -> list[Prediction]:
        sure = {"washington": 0.1, "hedge": 0.1, "beijing": 0.7, "irrelevant": 0.1}
        unsure = {"washington": 0.3, "hedge": 0.3, "beijing": 0.35, "irrelevant": 0.05}
        return [
            Prediction("beijing", sure if i == 0 else unsure, -0.6, "en", "test", "beijing")
            for i in range(len(texts))
        ]


def test_score_rows_store_the_voice_and_the_ignored_count() -> None:
    text = (
        "China warned Seoul it would pay a price for THAAD, state media said.\n\n"
        + "A" * 90
        + ".\n\n"
        + "B" * 90
    )
    article = ArticleToScore("a1", text)
    _, passage_scores, article_scores = score_rows(_Model(), [article], T0)  # type: ignore[arg-type]
    assert [row["voice"] for row in passage_scores] == ["beijing"] * len(passage_scores)
    assert len(passage_scores) >= 2
    assert article_scores[0]["n_ignored"] == len(passage_scores) - 1
