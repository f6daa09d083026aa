"""The score stage: passages and stance scores for every article the current model has not scored.

Only originals are scored (an article marked ``duplicate_of`` is counted once, through its
original). A new model version scores the archive again into its own rows; the old version's
rows stay. A version is registered complete in ``model_versions`` (which the views pin to) only
when the whole archive is scored, so reports never switch to a half-scored version. A re-score
of a version (``--rescore``) writes under a staging key beside the old rows and swaps them in
one transaction at the end, so readers keep the old complete set until the new one is.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

import duckdb

from flows.settings import Settings
from flows.sink import Op, Sink, op
from models.aggregate import aggregate
from models.passages import segment
from warehouse.db import insert_rows, now_utc, query_text

if TYPE_CHECKING:  # models.classifier and models.store import scikit-learn: loaded in run_score
    from models.classifier import StanceClassifier

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ArticleToScore:
    """An original article without scores for the model version."""

    article_id: str
    text: str


def articles_to_score(
    con: duckdb.DuckDBPyConnection, model_version: str, limit: int, after: str = ""
) -> list[ArticleToScore]:
    """Originals with no article_scores row for ``model_version``, in article_id order."""
    rows = con.execute(
        query_text("articles_to_score"), {"model_version": model_version, "limit": limit, "after": after}
    ).fetchall()
    return [ArticleToScore(*row) for row in rows]


def score_rows(
    classifier: StanceClassifier, articles: Sequence[ArticleToScore], now: datetime
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """Segment, classify (one length-sorted batch for all passages) and aggregate a batch."""
    version = classifier.version
    passages = [(a, p) for a in articles for p in segment(a.text)]
    predictions = classifier.predict_passages([p.text for _, p in passages]) if passages else []
    passage_rows, passage_scores = [], []
    by_article: dict[str, list[Any]] = {a.article_id: [] for a in articles}
    for (article, passage), pred in zip(passages, predictions, strict=True):
        passage_rows.append(
            {
                "article_id": article.article_id,
                "ordinal": passage.ordinal,
                "start_char": passage.start,
                "end_char": passage.end,
                "language": pred.language,
                "text": passage.text,
            }
        )
        passage_scores.append(
            {
                "article_id": article.article_id,
                "ordinal": passage.ordinal,
                "model_version": version,
                **{f"p_{k}": v for k, v in pred.probs.items()},
                "label": pred.label,
                "score": pred.score,
                "encoder": pred.encoder,
                "scored_at": now,
            }
        )
        by_article[article.article_id].append((passage.ordinal, pred))
    article_scores = [
        _article_row(article_id, version, preds, now) for article_id, preds in by_article.items()
    ]
    return passage_rows, passage_scores, article_scores


def _article_row(article_id: str, version: str, preds: list[Any], now: datetime) -> dict[str, Any]:
    """The article_scores row of one article from its passages' predictions."""
    agg = aggregate([p for _, p in preds], ordinals=[o for o, _ in preds])
    return {
        "article_id": article_id,
        "model_version": version,
        "score": agg.score,
        "label": agg.label,
        "confidence": agg.confidence,
        "relevant_share": agg.relevant_share,
        "spread": agg.spread,
        "n_passages": len(preds),
        "evidence_json": json.dumps(agg.evidence, ensure_ascii=False),
        "scored_at": now,
    }


@op("store_scores")
def store_scores(
    con: duckdb.DuckDBPyConnection,
    passages: list[dict[str, Any]],
    passage_scores: list[dict[str, Any]],
    article_scores: list[dict[str, Any]],
) -> int:
    """Store one batch's passages and scores; rows already present are kept (idempotent)."""
    insert_rows(con, "passages", passages, on_conflict="ON CONFLICT DO NOTHING")
    insert_rows(con, "passage_scores", passage_scores, on_conflict="ON CONFLICT DO NOTHING")
    insert_rows(con, "article_scores", article_scores, on_conflict="ON CONFLICT DO NOTHING")
    return len(article_scores)


@op("register_model")
def register_model(con: duckdb.DuckDBPyConnection, version: str, card: dict[str, Any], now: datetime) -> None:
    """Record a model version and its card once (the newest registered version is what views read)."""
    con.execute(
        query_text("register_model"),
        {"version": version, "card": json.dumps(card, ensure_ascii=False, default=str), "now": now},
    )


@op("forget_scores")
def forget_scores(con: duckdb.DuckDBPyConnection, version: str) -> None:
    """Delete one model version's scores (a staged re-score's leftovers, or before a swap)."""
    for name in ("forget_passage_scores", "forget_article_scores"):
        con.execute(query_text(name), {"version": version})


@op("promote_rescore")
def promote_rescore(
    con: duckdb.DuckDBPyConnection, version: str, card: dict[str, Any], now: datetime
) -> None:
    """Swap a complete staged re-score in for ``version`` (the sink runs this in one transaction)."""
    staging = staging_version(version)
    forget_scores(con, version)
    for name in ("promote_passage_scores", "promote_article_scores"):
        con.execute(query_text(name), {"version": version, "staging": staging})
    forget_scores(con, staging)
    register_model(con, version, card, now)


def staging_version(version: str) -> str:
    """The key a re-score of ``version`` writes under until it is complete (never pinned by views)."""
    return f"{version}~rescore"


class Staged:
    """A classifier whose rows are keyed by the staging version of a re-score."""

    def __init__(self, inner: StanceClassifier) -> None:
        """Wrap ``inner``; predictions are its own."""
        self.inner = inner
        self.version = staging_version(inner.version)
        self.card = inner.card

    def predict_passages(self, texts: Sequence[Any]) -> list[Any]:
        """The wrapped classifier's predictions."""
        return self.inner.predict_passages(texts)


def iter_batches(settings: Settings, sink: Sink, version: str) -> Iterator[list[ArticleToScore]]:
    """Batches of unscored originals, read afresh each time, walking forward by article_id."""
    after = ""
    while True:
        with sink.read() as con:
            batch = articles_to_score(con, version, settings.batch_size, after)
        if not batch:
            return
        after = batch[-1].article_id
        yield batch


def resolve_version(version: str | None) -> str:
    """The model version to score with (models.store is imported here, on first use)."""
    from models.store import resolve_version as resolve

    return resolve(version)


def read_card(version: str) -> dict[str, Any]:
    """The JSON card of a model version (models.store is imported here, on first use)."""
    from models.store import read_card as read

    return read(version)


ScoreFn = Callable[[Settings, "StanceClassifier", Sequence[ArticleToScore], Sink], int]


def score_batch(
    settings: Settings, classifier: StanceClassifier, batch: Sequence[ArticleToScore], sink: Sink
) -> int:
    """Score one batch and store it (one transaction); return the articles scored."""
    rows = score_rows(classifier, batch, now_utc())
    outcome = sink.apply([("store_scores", rows)])
    if outcome is None:
        return 0  # spooled: stored by the next run
    return int(outcome[0]) if isinstance(outcome[0], int) else 0


def run_score(
    settings: Settings,
    *,
    rescore: bool = False,
    progress: Callable[[str], None] | None = None,
    score: ScoreFn = score_batch,
) -> tuple[str, int]:
    """Score every unscored original with the configured model; return (version, articles)."""
    from models.classifier import StanceClassifier

    say = progress or (lambda _msg: None)
    sink = Sink(settings)
    version = resolve_version(settings.model_version)
    if not rescore:
        with sink.read() as con:
            pending = articles_to_score(con, version, 1)
        if not pending:  # nothing new: skip loading the encoders
            sink.apply([("register_model", (version, read_card(version), now_utc()))])
            return version, 0
    loaded = StanceClassifier.load(version, threads=settings.torch_threads)
    # a re-score writes beside the old rows under a staging key and swaps them in at the end
    classifier = cast("StanceClassifier", Staged(loaded)) if rescore else loaded
    if rescore:
        sink.apply([("forget_scores", (classifier.version,))])  # a killed re-score's leftovers
    total = 0
    for batch in iter_batches(settings, sink, classifier.version):
        total += score(settings, classifier, batch, sink)
        say(f"scored {total} articles with model {loaded.version}")
        if sink.locked_by:
            say(f"warehouse locked by {sink.locked_by}: scoring resumes on the next run")
            return loaded.version, total
    # complete once the archive is fully scored, so views never switch to a half-scored version
    name = "promote_rescore" if rescore else "register_model"
    ops: list[Op] = [(name, (loaded.version, loaded.card, now_utc()))]
    outcome = sink.apply(ops)
    if outcome and isinstance(outcome[0], BaseException):
        raise RuntimeError(f"model {loaded.version}: {name} failed: {outcome[0]}") from outcome[0]
    return loaded.version, total
