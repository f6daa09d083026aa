"""StanceClassifier: passages in, four calibrated probabilities and a stance score out.

Each passage is routed by its detected language: English to the ``en`` head (MiniLM and USE
vectors), everything else to the ``multilingual`` head (USE vectors). Its score is
``P(washington) − P(beijing)`` in [−1, 1].
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, overload

import numpy as np

from models.aggregate import ArticleScore, aggregate
from models.encoders import FP32, MINILM, Encoder, get_encoder
from models.finetune import Delta, FineTunedMiniLM, read_delta
from models.heads import HEADS, LinearHead, head_for
from models.labels import LABELS
from models.language import detect_language
from models.mentions import KOREA_MENTION, korea_mentions
from models.passages import Passage, segment
from models.registry import ARTIFACTS_DIR, read_article_rules, read_card, read_heads, resolve_version
from models.voice import detect_voice

Routed = dict[str, tuple[list[int], np.ndarray, list[str]]]
"""Per head name: positions of the texts routed to it, their embeddings, the texts themselves."""
# A passage's voice (models.voice) is read from its own words and feeds the heads' voice block.


class ModelIntegrityError(RuntimeError):
    """The installed encoder files differ from those the heads were fitted on."""


@dataclass(frozen=True)
class Prediction:
    """One passage's stance: label, probabilities over ``LABELS``, score, language, encoder, voice."""

    label: str
    probs: dict[str, float]
    score: float
    language: str
    encoder: str
    voice: str = "author"

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "label": self.label,
            "probs": dict(self.probs),
            "score": self.score,
            "language": self.language,
            "encoder": self.encoder,
            "voice": self.voice,
        }


@dataclass(frozen=True)
class ArticleResult:
    """An article scored end to end: its passages, their predictions and the aggregate."""

    passages: list[Passage]
    predictions: list[Prediction]
    article: ArticleScore


class StanceClassifier:
    """A calibrated stance model: one head per encoder route, loaded from an artifact version."""

    labels: tuple[str, ...] = LABELS

    def __init__(
        self,
        version: str,
        heads: dict[str, LinearHead],
        card: dict[str, Any],
        threads: int = 2,
        delta: Delta | None = None,
        precision: str = FP32,
        article_rules: tuple[str, ...] = (),
    ):
        """Wrap fitted heads; encoders are loaded lazily on first use and shared per process.

        With a ``delta`` the English head reads MiniLM fine-tuned by it (merged into the weights, fp32);
        else MiniLM runs at ``precision`` (int8: ONNX Runtime, see ``models.onnx_minilm``).
        ``article_rules`` are the version's article rules beyond the relevant share (``article_score``)."""
        missing = [h.name for h in HEADS if h.name not in heads]
        if missing:
            raise ValueError(f"model {version} lacks head(s) {', '.join(missing)}")
        self.version = version
        self.heads = heads
        self.card = card
        self.threads = max(1, threads)
        self.delta = delta
        self.precision = precision
        self.article_rules = tuple(article_rules)
        self._tuned: FineTunedMiniLM | None = None

    @classmethod
    def load(
        cls,
        version: str | None = None,
        *,
        artifacts_dir: Path | None = None,
        threads: int = 2,
        verify_encoders: bool = True,
        precision: str = FP32,
    ) -> StanceClassifier:
        """Load a version (default: the latest) from the artifacts directory."""
        directory = artifacts_dir if artifacts_dir is not None else ARTIFACTS_DIR
        resolved = resolve_version(version, directory)
        card = read_card(resolved, directory)
        heads = read_heads(directory / f"{resolved}.npz", card.get("feature_spec"))
        delta = read_delta(directory / f"{resolved}.npz")
        rules = read_article_rules(directory / f"{resolved}.npz")
        model = cls(resolved, heads, card, threads, delta, precision, rules)
        if verify_encoders:
            model.verify_encoders()
        return model

    def verify_encoders(self) -> None:
        """Fail if an installed encoder file's hash differs from the one recorded in the card."""
        for name, recorded in self.card.get("encoders", {}).items():
            current = get_encoder(name, self.threads, self.precision).info()
            for file, digest in recorded.get("files", {}).items():
                if current["files"].get(file) != digest:
                    raise ModelIntegrityError(
                        f"model {self.version}: encoder {name} file {file} differs from the one the heads"
                        f" were fitted on (package {current['package']} {current['package_version']},"
                        f" card says {recorded.get('package_version')}); rebuild with `axiswatch model build`"
                    )

    @overload
    def predict(self, text: str) -> Prediction: ...

    @overload
    def predict(self, text: list[str]) -> list[Prediction]: ...

    def predict(self, text: str | list[str]) -> Prediction | list[Prediction]:
        """Predict one text (returns a Prediction) or a list of texts (returns a list)."""
        if isinstance(text, str):
            return self.predict_passages([text])[0]
        return self.predict_passages(list(text))

    def predict_passages(self, texts: Sequence[str | Passage]) -> list[Prediction]:
        """Predict a batch of passages (texts or ``Passage`` objects), results in input order."""
        plain = [t.text if isinstance(t, Passage) else t for t in texts]
        for i, t in enumerate(plain):
            if not isinstance(t, str) or not t.strip():
                raise ValueError(f"passage {i} is empty; nothing to classify")
        languages = [detect_language(t) for t in plain]
        predictions = self.predictions_from(self.probabilities(plain, languages), languages)
        voices = [detect_voice(t, lang) for t, lang in zip(plain, languages, strict=True)]
        return [replace(p, voice=v) for p, v in zip(predictions, voices, strict=True)]

    @property
    def abstain_below(self) -> float:
        """Top probability under which a passage is ignored by the article score (from the card)."""
        return float(self.card.get("abstention", {}).get("threshold", 0.0))

    def probabilities(self, texts: Sequence[str], languages: Sequence[str]) -> np.ndarray:
        """(n, 4) calibrated probabilities, each text scored by the head of its language."""
        return self.probabilities_from(self.routed_features(texts, languages), len(texts))

    def routed_features(self, texts: Sequence[str], languages: Sequence[str]) -> Routed:
        """For each head: the positions of the texts routed to it, their embeddings and texts."""
        routed: Routed = {}
        for spec in HEADS:
            rows = [i for i, lang in enumerate(languages) if spec.serves(lang)]
            if rows:
                chosen = [texts[i] for i in rows]
                routed[spec.name] = (rows, self.features(spec.encoders, chosen), chosen)
        return routed

    def probabilities_from(self, routed: Routed, n: int) -> np.ndarray:
        """(n, 4) probabilities from ``routed_features`` output (embeddings can serve several models)."""
        out = np.zeros((n, len(LABELS)))
        for name, (rows, embedded, texts) in routed.items():
            out[rows] = self.heads[name].probs_for(embedded, texts)
        return out

    def predictions_from(self, probs: np.ndarray, languages: Sequence[str]) -> list[Prediction]:
        """Predictions from probability rows and the texts' languages."""
        return [self._prediction(row, lang) for row, lang in zip(probs, languages, strict=True)]

    def features(self, encoders: Sequence[str], texts: Sequence[str]) -> np.ndarray:
        """Concatenated embeddings of ``texts`` from the given encoders (MiniLM as this version reads it)."""
        return np.hstack([self.encoder(name).encode(texts) for name in encoders])

    def encoder(self, name: str) -> Encoder | FineTunedMiniLM:
        """The encoder read under ``name``: MiniLM with the version's delta merged, else the shared one."""
        if name == MINILM and self.delta is not None:
            if self._tuned is None:
                self._tuned = FineTunedMiniLM(self.delta, self.threads)
            return self._tuned
        return get_encoder(name, self.threads, self.precision)

    def score_article(self, text: str, **segment_options: Any) -> ArticleResult:
        """Segment an article, predict every passage and aggregate (empty text → no passages)."""
        passages = segment(text, **segment_options)
        predictions = self.predict_passages(passages) if passages else []
        article = self.article_score([p.text for p in passages], predictions, [p.ordinal for p in passages])
        return ArticleResult(passages, predictions, article)

    def article_score(
        self,
        texts: Sequence[str],
        predictions: Sequence[Prediction],
        ordinals: Sequence[int] | None = None,
        min_confidence: float | None = None,
    ) -> ArticleScore:
        """An article's score from its passages by this version's rules: the relevant share, abstention
        (default: the card's threshold) and, if the version has it, the Korea mention."""
        mentions = None
        if KOREA_MENTION in self.article_rules:
            mentions = korea_mentions(texts, [p.language for p in predictions])
        threshold = self.abstain_below if min_confidence is None else min_confidence
        return aggregate(predictions, ordinals, min_confidence=threshold, mentions=mentions)

    @staticmethod
    def _prediction(row: np.ndarray, language: str) -> Prediction:
        """Build a Prediction from one probability row."""
        probs = {label: float(row[i]) for i, label in enumerate(LABELS)}
        label = LABELS[int(np.argmax(row))]
        score = probs["washington"] - probs["beijing"]
        return Prediction(label, probs, score, language, head_for(language).encoder_id)
