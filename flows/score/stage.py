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
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from flows.settings import Settings
from models.passages import segment
from warehouse.db import WarehouseError, now_utc
from warehouse.score_ops import (
    ArticleToScore,
    ForgetScores,
    PromoteRescore,
    RegisterModel,
    StoreScores,
    articles_to_score,
    count_to_score,
    staging_version,
)
from warehouse.sink import Sink

if TYPE_CHECKING:  # models.classifier and models.registry import scikit-learn: loaded in run_score
    from models.classifier import StanceClassifier

log = logging.getLogger(__name__)


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
                "voice": pred.voice,
                "scored_at": now,
            }
        )
        by_article[article.article_id].append((passage.ordinal, passage.text, pred))
    article_scores = [
        _article_row(classifier, article_id, preds, now) for article_id, preds in by_article.items()
    ]
    return passage_rows, passage_scores, article_scores


def _article_row(
    classifier: StanceClassifier, article_id: str, preds: list[Any], now: datetime
) -> dict[str, Any]:
    """The article_scores row of one article, by the version's article rules (``article_score``)."""
    ordinals, texts, predictions = zip(*preds, strict=True) if preds else ((), (), ())
    agg = classifier.article_score(texts, predictions, ordinals)
    return {
        "article_id": article_id,
        "model_version": classifier.version,
        "score": agg.score,
        "label": agg.label,
        "confidence": agg.confidence,
        "relevant_share": agg.relevant_share,
        "spread": agg.spread,
        "n_passages": len(preds),
        "n_ignored": agg.n_ignored,
        "evidence_json": json.dumps(agg.evidence, ensure_ascii=False),
        "scored_at": now,
    }


def iter_batches(
    settings: Settings, sink: Sink, version: str, shard: tuple[int, int] = (0, 1)
) -> Iterator[list[ArticleToScore]]:
    """Batches of unscored originals, read afresh each time, walking forward by article_id; with
    ``shard`` (index, count), only the article ids of that shard (the query filters them)."""
    after = ""
    while True:
        with sink.read() as con:
            batch = articles_to_score(con, version, settings.batch_size, after, shard)
        if not batch:
            return
        after = batch[-1].article_id
        yield batch


def to_score(settings: Settings, sink: Sink, version: str) -> int | None:
    """How many articles wait for ``version`` (None when the warehouse cannot be read now)."""
    try:
        with sink.read() as con:
            return count_to_score(con, version)
    except WarehouseError:
        return None


REGISTRY = "models"
"""The data directory's model registry (DATA_DIR/models): user-built versions and its LATEST."""


def registry_dir(settings: Settings) -> Path:
    """Where user-built model versions live (never the source tree's models/artifacts)."""
    return settings.data_dir / REGISTRY


def locate(settings: Settings, version: str | None = None) -> tuple[str, Path]:
    """The model version to score with and the directory holding it: ``version`` (else the
    configured one) from the data directory's registry or the committed artifacts; with none
    asked, the registry's LATEST (`model build --with-labels`, `model use`), else the committed
    LATEST. models.registry is imported here, on first use."""
    from models.registry import ARTIFACTS_DIR, LATEST, list_versions
    from models.registry import resolve_version as resolve

    user = registry_dir(settings)
    wanted = version or settings.model_version
    if wanted is None and (user / LATEST).is_file():
        wanted = (user / LATEST).read_text(encoding="utf-8").strip()
    if wanted and wanted in list_versions(user):
        return wanted, user
    return resolve(wanted), ARTIFACTS_DIR


def resolve_version(settings: Settings) -> str:
    """The model version to score with (see ``locate``)."""
    return locate(settings)[0]


def read_card(settings: Settings) -> dict[str, Any]:
    """The JSON card of the model version to score with."""
    from models.registry import read_card as read

    version, directory = locate(settings)
    return read(version, directory)


ScoreFn = Callable[[Settings, "StanceClassifier", Sequence[ArticleToScore], Sink], int]


def score_batch(
    settings: Settings, classifier: StanceClassifier, batch: Sequence[ArticleToScore], sink: Sink
) -> int:
    """Score one batch and store it (one transaction); return the articles scored."""
    rows = score_rows(classifier, batch, now_utc())
    outcome = sink.apply([StoreScores(*rows)])
    if outcome is None:
        return 0  # spooled: stored by the next run
    return int(outcome[0]) if isinstance(outcome[0], int) else 0


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

    def __getattr__(self, name: str) -> Any:
        """Everything else (abstention threshold, heads, …) is the wrapped classifier's."""
        return getattr(self.inner, name)


def load_classifier(settings: Settings) -> StanceClassifier:
    """The configured model version with its encoders, from wherever ``locate`` finds it."""
    from models.classifier import StanceClassifier

    version, directory = locate(settings)
    return StanceClassifier.load(
        version, artifacts_dir=directory, threads=settings.torch_threads, precision=settings.encoder_precision
    )


def prepare(settings: Settings, sink: Sink, *, rescore: bool = False) -> StanceClassifier | str:
    """The classifier to score with (a re-score's writes to a staging key), or, when nothing is
    new, the version (registered) without loading the encoders."""
    version = resolve_version(settings)
    if not rescore:
        with sink.read() as con:
            pending = articles_to_score(con, version, 1)
        if not pending:  # nothing new: skip loading the encoders
            sink.apply([RegisterModel(version, read_card(settings), now_utc())])
            return version
    loaded = load_classifier(settings)
    if not rescore:
        return loaded
    # a re-score writes beside the old rows under a staging key and swaps them in at the end
    sink.apply([ForgetScores(staging_version(version))])  # a killed re-score's leftovers
    return cast("StanceClassifier", Staged(loaded))


def model_version(classifier: StanceClassifier) -> str:
    """The model version a (possibly staged) classifier scores for."""
    return classifier.inner.version if isinstance(classifier, Staged) else classifier.version


def finish(sink: Sink, classifier: StanceClassifier) -> None:
    """Complete the version once the archive is fully scored (a re-score swaps its staged rows in,
    in one transaction), so views never switch to a half-scored version."""
    staged = isinstance(classifier, Staged)
    version = model_version(classifier)
    op = (PromoteRescore if staged else RegisterModel)(version, classifier.card, now_utc())
    outcome = sink.apply([op])
    if outcome and isinstance(outcome[0], BaseException):
        raise RuntimeError(f"model {version}: {op.op_name} failed: {outcome[0]}") from outcome[0]
