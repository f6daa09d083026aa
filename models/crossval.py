"""Nested cross-validation of the stance heads: a calibrated head, out-of-fold predictions, learning curve.

Folds are grouped by URL; C, the weights of seed and foreign-language rows and the temperatures of
each outer fold are chosen by an inner grouped CV on that fold's training part only. With a
fine-tuning configuration, the English head's MiniLM block of each outer fold comes from MiniLM
fine-tuned on that fold's training part (``models.finetune.crossfit_block``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from models.dataset import Dataset
from models.evaluate import evaluate
from models.finetune import crossfit_block, with_block
from models.heads import (
    HEADS,
    HeadSpec,
    LinearHead,
    fit_head,
    fit_temperature,
    grouped_folds,
    head_features,
    select_c,
    softmax,
)
from models.labels import LABELS
from models.language import detect_language
from models.lexicon import Lexicon

if TYPE_CHECKING:
    from models.config import BuildConfig


def cv_mask(data: Dataset, head: str) -> np.ndarray:
    """Rows C and temperature are tuned on: dev rows, or pole rows when there is no dev set."""
    dev = data.mask(head, "dev")
    return dev if dev.any() else data.mask(head, "pole")


def fit_calibrated(
    data: Dataset, spec: HeadSpec, train: np.ndarray, config: BuildConfig
) -> tuple[LinearHead, dict[str, Any]]:
    """Choose C by inner grouped CV on ``train`` (head-row positions), fit, temperature-scale.

    A lexical head's vocabulary and idf come from the texts of ``train`` only.
    """
    head_texts = data.texts(spec.name)
    texts = [head_texts[i] for i in train]
    lexicon = fit_lexicon(texts, config.analyzer(spec.name), config)
    extras = config.extras_of(spec.name)
    x = head_features(data.features[spec.name][train], texts, lexicon, extras)
    y = data.labels[data.rows[spec.name][train]]
    mask = cv_mask(data, spec.name)[train]
    scored = mask & data.served(spec)[train]
    groups = [data.groups(spec.name)[i] for i in train]
    foreign = ~data.served(spec)[train]
    foreign_grid = config.foreign_weights if foreign.any() else (1.0,)
    grid = [(c, w, f) for c in config.c_grid for w in config.seed_weights for f in foreign_grid]
    seed_rows = data.mask(spec.name, "seed")[train]
    chosen = select_c(x, y, mask, scored, groups, grid, seed_rows, config.inner_folds, config.seed, foreign)
    temperature = fit_temperature(chosen.oof_logits, y[scored]) if scored.any() else 1.0
    langs = np.array([detect_language(t) for t in texts])[scored]
    temperatures = language_temperatures(chosen.oof_logits, y[scored], langs, config)
    weights = np.where(seed_rows, chosen.seed_weight, 1.0) * np.where(foreign, chosen.foreign_weight, 1.0)
    head = fit_head(x, y, chosen.c, weights)
    head = LinearHead(head.coef, head.intercept, temperature, lexicon, extras, temperatures)
    info = {
        "C": chosen.c,
        "lexicon": lexicon.analyzer if lexicon is not None else None,
        "lexicon_terms": lexicon.dim if lexicon is not None else 0,
        "extras": list(extras),
        "seed_weight": chosen.seed_weight,
        "foreign_weight": chosen.foreign_weight,
        "temperature": temperature,
        "temperatures": temperatures,
        "inner_macro_f1": chosen.scores,
    }
    return head, info


def fit_lexicon(texts: list[str], analyzer: str | None, config: BuildConfig) -> Lexicon | None:
    """A head's lexicon from its training texts: words of the English ones, or character n-grams of
    the non-English ones (each head learns from every language but reads its own in the lexicon)."""
    if analyzer is None:
        return None
    if analyzer == "char":
        texts = [t for t in texts if detect_language(t) != "en"]
        return Lexicon.fit(texts, min_df=config.char_min_df, analyzer="char", max_terms=config.char_max_terms)
    return Lexicon.fit([t for t in texts if detect_language(t) == "en"], analyzer=analyzer)


def language_temperatures(
    logits: np.ndarray, labels: np.ndarray, langs: np.ndarray, config: BuildConfig
) -> dict[str, float]:
    """One temperature per language with at least ``min_temperature_rows`` inner out-of-fold rows."""
    if not config.per_language_temperature:
        return {}
    out = {}
    for lang in sorted(set(langs.tolist())):
        rows = langs == lang
        if rows.sum() >= config.min_temperature_rows:
            out[str(lang)] = fit_temperature(logits[rows], labels[rows])
    return out


def subsample(data: Dataset, dev_rows: np.ndarray, fraction: float, seed: int) -> set[int]:
    """A stratified share of the dev examples ``dev_rows`` (per language and label, at least one of each).

    Used by the learning curve: the training side of each fold keeps ``fraction`` of its dev rows.
    """
    if fraction >= 1.0:
        return {int(i) for i in dev_rows}
    rng = np.random.default_rng(seed)
    strata: dict[tuple[str, str], list[int]] = {}
    for i in dev_rows:
        example = data.examples[int(i)]
        strata.setdefault((example.language, example.label), []).append(int(i))
    kept: set[int] = set()
    for key in sorted(strata):
        members = strata[key]
        n = max(1, round(fraction * len(members)))
        kept.update(members[j] for j in rng.permutation(len(members))[:n])
    return kept


def out_of_fold(
    data: Dataset, config: BuildConfig, fraction: float = 1.0, cache_dir: Path | None = None
) -> dict[str, Any] | None:
    """Nested out-of-fold probabilities for every dev example (None without a dev set).

    With ``fraction`` below 1 each fold trains on that stratified share of its training part's dev
    rows (seed paragraphs and poles are always in); the test parts and folds are the same.
    """
    dev_idx = np.array([i for i, e in enumerate(data.examples) if e.source == "dev"], dtype=int)
    if len(dev_idx) == 0:
        return None
    groups = [data.examples[i].group for i in dev_idx]
    folds = grouped_folds(data.labels[dev_idx], groups, config.folds, config.seed)
    calibrated = np.zeros((len(dev_idx), len(LABELS)))
    raw = np.zeros_like(calibrated)
    fold_of = np.zeros(len(dev_idx), dtype=int)
    position = {int(ex): k for k, ex in enumerate(dev_idx)}
    choices: list[dict[str, Any]] = []
    for f, (train_part, test) in enumerate(folds):
        test_set = {int(dev_idx[t]) for t in test}
        dropped = {int(i) for i in dev_idx[train_part]} - subsample(
            data, dev_idx[train_part], fraction, config.seed + f
        )
        fold_of[test] = f
        fold_data = data
        if config.finetune is not None:
            kept = sorted({int(i) for i in dev_idx[train_part]} - dropped)
            block, _ = crossfit_block(data, kept, config.finetune, seed=config.seed + f, cache_dir=cache_dir)
            fold_data = with_block(data, block)
        for spec in HEADS:
            rows = data.rows[spec.name]
            served = data.served(spec)
            train = np.array(
                [k for k, i in enumerate(rows) if int(i) not in test_set and int(i) not in dropped], dtype=int
            )
            tested = np.array([k for k, i in enumerate(rows) if int(i) in test_set and served[k]], dtype=int)
            if len(tested) == 0:
                continue
            head, info = fit_calibrated(fold_data, spec, train, config)
            head_texts = data.texts(spec.name)
            texts = [head_texts[int(k)] for k in tested]
            features = head.features(fold_data.features[spec.name][tested], texts)
            where = [position[int(rows[k])] for k in tested]
            raw[where] = softmax(head.logits(features))
            calibrated[where] = head.probs(features, [detect_language(t) for t in texts])
            choices.append({"fold": f, "head": spec.name, **info})
    return {"index": dev_idx, "calibrated": calibrated, "raw": raw, "fold": fold_of, "choices": choices}


def learning_curve(
    data: Dataset, oof: dict[str, Any] | None, config: BuildConfig, cache_dir: Path | None = None
) -> list[dict[str, Any]]:
    """Out-of-fold macro-F1 (all and per language) when each fold trains on a share of its dev rows.

    Same folds as the card's figures; each fold's training side keeps a stratified share (per
    language and label) of its dev rows; the full share is the card's own out-of-fold result.
    """
    if oof is None:
        return []
    gold = [data.examples[i].label for i in oof["index"]]
    langs = [data.examples[i].language for i in oof["index"]]
    n_folds = int(oof["fold"].max()) + 1
    points = []
    for fraction in sorted({*config.learning_curve, 1.0}):
        run = oof if fraction >= 1.0 else out_of_fold(data, config, fraction, cache_dir)
        assert run is not None
        figures = evaluate(run["calibrated"], gold, langs)
        kept = [
            len(subsample(data, oof["index"][oof["fold"] != f], fraction, config.seed + f))
            for f in range(n_folds)
        ]
        points.append(
            {
                "fraction": fraction,
                "dev_rows_per_fold": float(np.mean(kept)),
                "all": figures["overall"]["macro_f1"],
                **{lang: m["macro_f1"] for lang, m in sorted(figures["per_language"].items())},
                "ece": figures["overall"]["ece"],
            }
        )
    return points
