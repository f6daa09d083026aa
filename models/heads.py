"""Linear heads over frozen sentence embeddings: fitting, temperature scaling, grouped CV.

Two heads: ``en`` reads MiniLM and USE vectors side by side and serves English passages;
``multilingual`` reads USE vectors and serves every other language (Korean, Chinese, ...).
Both learn from every language: the English head sees Korean and Chinese rows through USE (its
MiniLM block is zero for them, ``encoders.ENGLISH_ONLY``), and how much rows in a language a head
does not serve weigh is chosen by the inner CV of each fold.
Beside the embeddings a head may read a TF-IDF lexicon (words for English, character
1–3-grams for Korean/Chinese) and extra blocks named in ``extras``: ``cues`` (modality,
negation scope, conditionals, warnings; ``models.cues``), ``voice`` (who is speaking,
``models.voice``) and ``voice_direction`` (the direction cues crossed with the voice). Each head
has one temperature per language it serves.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from models.cues import CURRENT, CueSpec
from models.encoders import MINILM, USE
from models.labels import LABELS
from models.language import detect_language
from models.lexicon import Lexicon
from models.voice import detect_voice

ABSENT_LOGIT = -30.0
"""Logit given to a label the head never saw in training."""


@dataclass(frozen=True)
class HeadSpec:
    """A head's name, encoders (its lexicon's analyzer, if any), languages it serves and learns from."""

    name: str
    encoders: tuple[str, ...]
    english: bool
    learns_all_languages: bool
    lexical: str | None = None

    @property
    def encoder_id(self) -> str:
        """The encoder string recorded with each prediction (e.g. ``minilm+use-multilingual``)."""
        return "+".join(self.encoders)

    def serves(self, lang: str) -> bool:
        """True if passages detected as ``lang`` are routed to this head."""
        return (lang == "en") == self.english

    def learns_from(self, lang: str) -> bool:
        """True if training examples of language ``lang`` are used to fit this head."""
        return self.learns_all_languages or self.serves(lang)


HEADS: tuple[HeadSpec, ...] = (
    HeadSpec("en", (MINILM, USE), english=True, learns_all_languages=True, lexical="word"),
    HeadSpec("multilingual", (USE,), english=False, learns_all_languages=True, lexical="char"),
)


def head_for(lang: str) -> HeadSpec:
    """The head a passage of language ``lang`` is routed to."""
    return next(h for h in HEADS if h.serves(lang))


@dataclass(frozen=True)
class LinearHead:
    """Multinomial logistic regression weights, temperatures, an optional lexicon and extra blocks.

    Its features are the concatenated embeddings followed by the lexicon's TF-IDF (if any) and
    the ``extras`` blocks (``features`` builds them). ``temperatures`` holds one temperature per
    language; a language without its own uses ``temperature``.
    """

    coef: np.ndarray
    intercept: np.ndarray
    temperature: float = 1.0
    lexicon: Lexicon | None = None
    extras: tuple[str, ...] = ()
    temperatures: dict[str, float] = field(default_factory=dict)
    cues: CueSpec = CURRENT

    def features(self, embedded: np.ndarray, texts: Sequence[str]) -> np.ndarray:
        """The head's feature rows: embeddings, lexicon features and extra blocks (its own cue spec)."""
        return head_features(embedded, texts, self.lexicon, self.extras, self.cues)

    def probs_for(self, embedded: np.ndarray, texts: Sequence[str]) -> np.ndarray:
        """Calibrated probabilities of texts given their embeddings (temperature by detected language)."""
        return self.probs(self.features(embedded, texts), [detect_language(t) for t in texts])

    def temperature_for(self, lang: str) -> float:
        """The temperature used for passages of language ``lang``."""
        return self.temperatures.get(lang, self.temperature)

    def logits(self, features: np.ndarray) -> np.ndarray:
        """Raw (untempered) logits, one column per label in ``LABELS`` order."""
        raw = np.asarray(features, dtype=np.float64) @ self.coef.T + self.intercept
        return np.asarray(raw, dtype=np.float64)

    def probs(self, features: np.ndarray, languages: Sequence[str] | None = None) -> np.ndarray:
        """Temperature-scaled probabilities (per-language temperatures when ``languages`` are given)."""
        if languages is None:
            return softmax(self.logits(features) / self.temperature)
        scale = np.array([self.temperature_for(lang) for lang in languages])
        return softmax(self.logits(features) / scale[:, None])


EXTRAS: tuple[str, ...] = ("cues", "voice", "voice_direction", "rhetoric")
"""Extra feature blocks a head may read, in the order they are appended."""


def extra_features(texts: Sequence[str], extras: Sequence[str], spec: CueSpec = CURRENT) -> list[np.ndarray]:
    """The ``extras`` blocks of texts (cue flags; voice one-hot read from each text's own cues;
    direction cues crossed with the voice; the two blame-rhetoric flags alone)."""
    unknown = set(extras) - set(EXTRAS)
    if unknown:
        raise ValueError(f"unknown feature block(s) {sorted(unknown)}; expected {', '.join(EXTRAS)}")
    cues = spec.features(texts) if {"cues", "voice_direction", "rhetoric"} & set(extras) else None
    voices = (
        [detect_voice(t, detect_language(t)) for t in texts]
        if {"voice", "voice_direction"} & set(extras)
        else []
    )
    blocks = []
    if "cues" in extras and cues is not None:
        blocks.append(cues)
    if "voice" in extras:
        blocks.append(spec.voice_block(texts, voices))
    if "voice_direction" in extras and cues is not None:
        blocks.append(spec.voice_direction_block(cues, voices))
    if "rhetoric" in extras and cues is not None:
        blocks.append(cues[:, [spec.names.index(name) for name in spec.rhetoric]])
    return blocks


def head_features(
    embedded: np.ndarray,
    texts: Sequence[str],
    lexicon: Lexicon | None,
    extras: Sequence[str] = (),
    spec: CueSpec = CURRENT,
) -> np.ndarray:
    """Embeddings, then the lexicon's TF-IDF features (if any), then the ``extras`` blocks."""
    parts = [np.asarray(embedded, dtype=np.float64)]
    if lexicon is not None:
        parts.append(lexicon.transform(texts))
    parts += extra_features(texts, extras, spec)
    return parts[0] if len(parts) == 1 else np.hstack(parts)


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax, numerically stable."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return np.asarray(exp / exp.sum(axis=1, keepdims=True))


def fit_head(
    features: np.ndarray, labels: np.ndarray, c: float, weights: np.ndarray | None = None
) -> LinearHead:
    """Fit a class-balanced multinomial logistic regression; absent labels get a very low logit.

    ``weights`` (per row, default 1) scale each example; classes are balanced on weighted counts.
    """
    from sklearn.exceptions import ConvergenceWarning  # lazy: scoring and CLI start need no sklearn
    from sklearn.linear_model import LogisticRegression

    weights = np.ones(len(labels)) if weights is None else np.asarray(weights, dtype=np.float64)
    per_class = np.bincount(labels, weights=weights, minlength=len(LABELS))
    present = per_class > 0
    balance = np.where(present, weights.sum() / (present.sum() * np.maximum(per_class, 1e-12)), 0.0)
    model = LogisticRegression(C=c, max_iter=2000, tol=1e-4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(features, labels, sample_weight=weights * balance[labels])
    dim = features.shape[1]
    coef = np.zeros((len(LABELS), dim))
    intercept = np.full(len(LABELS), ABSENT_LOGIT)
    classes = [int(k) for k in model.classes_]
    if len(classes) == 2:
        # binary sklearn models keep one row: logit difference for class 1 versus class 0
        coef[classes[1]], intercept[classes[1]] = model.coef_[0], model.intercept_[0]
        intercept[classes[0]] = 0.0
    else:
        for row, k in enumerate(classes):
            coef[k], intercept[k] = model.coef_[row], model.intercept_[row]
    return LinearHead(coef, intercept)


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """Temperature minimising the negative log-likelihood of ``labels`` (searched in [0.05, 20])."""
    if len(labels) == 0:
        return 1.0

    def nll(log_t: float) -> float:
        p = softmax(logits / np.exp(log_t))
        return float(-np.mean(np.log(np.clip(p[np.arange(len(labels)), labels], 1e-12, 1.0))))

    grid = np.linspace(np.log(0.05), np.log(20.0), 121)
    best = int(np.argmin([nll(t) for t in grid]))
    lo, hi = grid[max(best - 1, 0)], grid[min(best + 1, len(grid) - 1)]
    ratio = (np.sqrt(5.0) - 1.0) / 2.0
    for _ in range(40):  # golden-section refinement inside the best grid cell
        a, b = hi - ratio * (hi - lo), lo + ratio * (hi - lo)
        if nll(a) <= nll(b):
            hi = b
        else:
            lo = a
    return float(np.exp((lo + hi) / 2.0))


def grouped_folds(
    labels: np.ndarray, groups: Sequence[str], n_folds: int, seed: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Stratified folds that never split a group (URL); fewer, unstratified ones when data are scarce."""
    from sklearn.model_selection import GroupKFold, StratifiedGroupKFold

    n_groups = len(set(groups))
    if len(labels) < 2 or n_groups < 2:
        return []
    k = max(2, min(n_folds, n_groups))
    splitter: StratifiedGroupKFold | GroupKFold
    if np.bincount(labels).max() >= k:
        splitter = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed)
    else:
        splitter = GroupKFold(n_splits=k)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return [(tr, te) for tr, te in splitter.split(np.zeros(len(labels)), labels, list(groups))]


@dataclass(frozen=True)
class Selection:
    """Outcome of choosing (C, seed weight, foreign weight) by CV: the choice, its OOF logits, every score."""

    c: float
    seed_weight: float
    oof_logits: np.ndarray
    scores: dict[str, float]
    foreign_weight: float = 1.0


def select_c(
    features: np.ndarray,
    labels: np.ndarray,
    cv_mask: np.ndarray,
    score_mask: np.ndarray,
    groups: Sequence[str],
    grid: Sequence[tuple[float, float, float]],
    seed_rows: np.ndarray,
    n_folds: int,
    seed: int,
    foreign_rows: np.ndarray | None = None,
) -> Selection:
    """Pick (C, seed-row weight, foreign-row weight) by grouped CV over ``cv_mask``, scored on ``score_mask``.

    Rows outside ``cv_mask`` (seed paragraphs, pole statements) are in every training fold;
    ``foreign_rows`` are rows in a language the head learns from but does not serve.
    """
    foreign = np.zeros(len(labels), dtype=bool) if foreign_rows is None else foreign_rows
    cv_rows = np.flatnonzero(cv_mask)
    fixed_rows = np.flatnonzero(~cv_mask)
    scored = score_mask[cv_rows]
    folds = grouped_folds(labels[cv_rows], [groups[int(i)] for i in cv_rows], n_folds, seed)
    best: Selection | None = None
    scores: dict[str, float] = {}
    for c, seed_weight, foreign_weight in grid:
        weights = np.where(seed_rows, seed_weight, 1.0) * np.where(foreign, foreign_weight, 1.0)
        oof = np.zeros((len(cv_rows), len(LABELS)))
        for tr, te in folds:
            train = np.concatenate([fixed_rows, cv_rows[tr]])
            head = fit_head(features[train], labels[train], c, weights[train])
            oof[te] = head.logits(features[cv_rows[te]])
        key = f"C={c:g},seed_weight={seed_weight:g}" + (
            f",foreign={foreign_weight:g}" if foreign_weight != 1 else ""
        )
        scores[key] = _macro_f1(labels[cv_rows][scored], oof[scored]) if folds else 0.0
        if best is None or scores[key] > max(best.scores.values()) + 1e-9:
            best = Selection(float(c), float(seed_weight), oof[scored], dict(scores), float(foreign_weight))
    if best is None:
        raise ValueError("empty grid")
    return Selection(best.c, best.seed_weight, best.oof_logits, scores, best.foreign_weight)


def _macro_f1(labels: np.ndarray, logits: np.ndarray) -> float:
    """Macro-F1 of argmax predictions over the four labels."""
    from models.evaluate import confusion, macro_f1

    gold = [LABELS[i] for i in labels]
    pred = [LABELS[i] for i in logits.argmax(axis=1)]
    return macro_f1(confusion(gold, pred))
