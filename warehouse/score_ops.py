"""Warehouse reads and writes of the score stage: unscored originals, scores, model versions."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import duckdb

from warehouse import query
from warehouse.db import insert_rows
from warehouse.ops import WriteOp, write_op


@dataclass(frozen=True)
class ArticleToScore:
    """An original article without scores for the model version."""

    article_id: str
    text: str


def articles_to_score(
    con: duckdb.DuckDBPyConnection,
    model_version: str,
    limit: int,
    after: str = "",
    shard: tuple[int, int] = (0, 1),
) -> list[ArticleToScore]:
    """Originals with no article_scores row for ``model_version``, in article_id order; with
    ``shard`` (index, count), only those whose article id hashes to that shard (filtered in SQL)."""
    params = {"model_version": model_version, "limit": limit, "after": after}
    params.update(shard=shard[0], shards=shard[1])
    rows = con.execute(query.text("articles_to_score"), params).fetchall()
    return [ArticleToScore(*row) for row in rows]


def count_to_score(con: duckdb.DuckDBPyConnection, model_version: str) -> int:
    """How many originals have no article_scores row for ``model_version`` (for progress)."""
    row = query.rows(con, "count_to_score", {"model_version": model_version})
    return int(row[0][0]) if row else 0


def store_scores(
    con: duckdb.DuckDBPyConnection,
    passages: list[dict[str, Any]],
    passage_scores: list[dict[str, Any]],
    article_scores: list[dict[str, Any]],
) -> int:
    """Store one batch's passages and scores; rows already present are kept (idempotent)."""
    insert_rows(con, "passages", passages, skip_existing=("article_id", "ordinal"))
    keys = ("article_id", "ordinal", "model_version")
    insert_rows(con, "passage_scores", passage_scores, skip_existing=keys)
    insert_rows(con, "article_scores", article_scores, skip_existing=("article_id", "model_version"))
    return len(article_scores)


def register_model(con: duckdb.DuckDBPyConnection, version: str, card: dict[str, Any], now: datetime) -> None:
    """Record a model version and its card once (the newest registered version is what views read)."""
    con.execute(
        query.text("register_model"),
        {"version": version, "card": json.dumps(card, ensure_ascii=False, default=str), "now": now},
    )


def forget_scores(con: duckdb.DuckDBPyConnection, version: str) -> None:
    """Delete one model version's scores (a staged re-score's leftovers, or before a swap)."""
    for name in ("forget_passage_scores", "forget_article_scores"):
        con.execute(query.text(name), {"version": version})


def promote_rescore(
    con: duckdb.DuckDBPyConnection, version: str, card: dict[str, Any], now: datetime
) -> None:
    """Swap a complete staged re-score in for ``version`` (the sink runs this in one transaction)."""
    staging = staging_version(version)
    forget_scores(con, version)
    for name in ("promote_passage_scores", "promote_article_scores"):
        con.execute(query.text(name), {"version": version, "staging": staging})
    forget_scores(con, staging)
    register_model(con, version, card, now)


def staging_version(version: str) -> str:
    """The key a re-score of ``version`` writes under until it is complete (never pinned by views)."""
    return f"{version}~rescore"


@write_op("store_scores")
@dataclass(frozen=True)
class StoreScores(WriteOp):
    """Passages, passage scores and article scores of a batch of articles."""

    passages: list[dict[str, Any]]
    passage_scores: list[dict[str, Any]]
    article_scores: list[dict[str, Any]]

    def apply(self, con: duckdb.DuckDBPyConnection) -> int:
        """store_scores."""
        return store_scores(con, self.passages, self.passage_scores, self.article_scores)

    @classmethod
    def apply_many(cls, con: duckdb.DuckDBPyConnection, ops: Sequence[Any]) -> list[Any]:
        """Several batches' rows in one statement per table (keys already stored are skipped)."""
        if len(ops) > 1:
            store_scores(
                con,
                [r for o in ops for r in o.passages],
                [r for o in ops for r in o.passage_scores],
                [r for o in ops for r in o.article_scores],
            )
        else:
            ops[0].apply(con)
        return [len(o.article_scores) for o in ops]


@write_op("register_model")
@dataclass(frozen=True)
class RegisterModel(WriteOp):
    """A model version's card in model_versions."""

    version: str
    card: dict[str, Any]
    now: datetime

    def apply(self, con: duckdb.DuckDBPyConnection) -> None:
        """register_model."""
        register_model(con, self.version, self.card, self.now)


@write_op("forget_scores")
@dataclass(frozen=True)
class ForgetScores(WriteOp):
    """Every score row of a (staging) model version."""

    version: str

    def apply(self, con: duckdb.DuckDBPyConnection) -> None:
        """forget_scores."""
        forget_scores(con, self.version)


@write_op("promote_rescore")
@dataclass(frozen=True)
class PromoteRescore(WriteOp):
    """Swap a finished re-score's staging rows in for the version's old rows."""

    version: str
    card: dict[str, Any]
    now: datetime

    def apply(self, con: duckdb.DuckDBPyConnection) -> None:
        """promote_rescore."""
        promote_rescore(con, self.version, self.card, self.now)
