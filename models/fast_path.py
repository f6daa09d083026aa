"""The quality gate of the int8 path (MiniLM and USE): out of fold against fp32 on the card's own folds.

For each outer fold the heads are refitted on fp32 features with the hyperparameters that fold chose
(recorded in the card's ``fold_choices``: C, row weights, temperatures; the lexicon is refitted on
the fold's training texts as the build does), then its held-out rows are predicted from fp32 and
from int8 features. The fp32 side reproduces the card's out-of-fold figures (checked). The committed
model's full-data predictions on every dev passage are compared too. The result is a sidecar
``<version>.fast_path.json`` next to the card; the version id is unchanged.

Run: ``python -m models.fast_path --seeds seeds`` (minutes: the dev set is embedded in both precisions).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from models.build import load_examples
from models.classifier import StanceClassifier
from models.config import BuildConfig
from models.crossval import fit_lexicon
from models.dataset import Dataset, embed
from models.encoders import FP32, INT8
from models.evaluate import evaluate
from models.heads import HEADS, LinearHead, fit_head, grouped_folds, head_features
from models.labels import LABELS
from models.language import detect_language
from models.registry import ARTIFACTS_DIR, read_card, resolve_version
from models.training import default_dev_path

FAST_PATH = "MiniLM int8, USE with int8 convolutions (ONNX Runtime, per-channel dynamic quantization)"
"""What the int8 precision runs, as the sidecar records it."""
MAX_F1_DROP = 0.005
"""The fast path's out-of-fold macro-F1 may be at most this much below fp32's."""
MIN_AGREEMENT = 0.98
"""Share of dev passages whose label must be identical under both paths."""


def refit(
    data: Dataset, head: str, train: np.ndarray, choice: dict[str, Any], config: BuildConfig
) -> LinearHead:
    """A fold's head fitted on ``train`` (head-row positions) with the fold's recorded choices."""
    spec = next(s for s in HEADS if s.name == head)
    texts = [data.texts(head)[i] for i in train]
    lexicon = fit_lexicon(texts, config.analyzer(head), config)
    extras = config.extras_of(head)
    x = head_features(data.features[head][train], texts, lexicon, extras)
    y = data.labels[data.rows[head][train]]
    seed_rows = data.mask(head, "seed")[train]
    foreign = ~data.served(spec)[train]
    weights = np.where(seed_rows, choice["seed_weight"], 1.0) * np.where(
        foreign, choice["foreign_weight"], 1.0
    )
    fitted = fit_head(x, y, choice["C"], weights)
    temps = {str(k): float(v) for k, v in (choice.get("temperatures") or {}).items()}
    return LinearHead(fitted.coef, fitted.intercept, float(choice["temperature"]), lexicon, extras, temps)


def out_of_fold_pair(
    fp32: Dataset, fast: Dataset, choices: Sequence[dict[str, Any]], config: BuildConfig
) -> dict[str, Any]:
    """Calibrated out-of-fold probabilities of every dev row from fp32 and from fast-path features."""
    dev_idx = np.array([i for i, e in enumerate(fp32.examples) if e.source == "dev"], dtype=int)
    groups = [fp32.examples[i].group for i in dev_idx]
    folds = grouped_folds(fp32.labels[dev_idx], groups, config.folds, config.seed)
    position = {int(ex): k for k, ex in enumerate(dev_idx)}
    probs = {FP32: np.zeros((len(dev_idx), len(LABELS))), INT8: np.zeros((len(dev_idx), len(LABELS)))}
    chosen = {(int(c["fold"]), str(c["head"])): c for c in choices}
    for f, (_, test) in enumerate(folds):
        test_set = {int(dev_idx[t]) for t in test}
        for spec in HEADS:
            rows = fp32.rows[spec.name]
            served = fp32.served(spec)
            train = np.array([k for k, i in enumerate(rows) if int(i) not in test_set], dtype=int)
            tested = np.array([k for k, i in enumerate(rows) if int(i) in test_set and served[k]], dtype=int)
            if len(tested) == 0:
                continue
            head = refit(fp32, spec.name, train, chosen[(f, spec.name)], config)
            texts = [fp32.texts(spec.name)[int(k)] for k in tested]
            langs = [detect_language(t) for t in texts]
            where = [position[int(rows[k])] for k in tested]
            for precision, data in ((FP32, fp32), (INT8, fast)):
                probs[precision][where] = head.probs(
                    head.features(data.features[spec.name][tested], texts), langs
                )
    return {"index": dev_idx, **probs}


def compare(a: np.ndarray, b: np.ndarray) -> dict[str, float]:
    """Share of rows with the same argmax label and the largest probability difference."""
    return {
        "identical_labels": round(float(np.mean(a.argmax(axis=1) == b.argmax(axis=1))), 6),
        "max_abs_prob_diff": round(float(np.abs(a - b).max()), 6),
    }


def fast_path_figures(
    seeds_dir: Path, version: str | None = None, artifacts_dir: Path = ARTIFACTS_DIR, threads: int = 2
) -> dict[str, Any]:
    """Measure the gate for a version (default: the latest) on its card's dev set and folds."""
    resolved = resolve_version(version, artifacts_dir)
    card = read_card(resolved, artifacts_dir)
    config = BuildConfig(threads=threads)
    examples = load_examples(seeds_dir, default_dev_path(seeds_dir), config)
    with tempfile.TemporaryDirectory() as cache:
        fp32 = embed(examples, threads, Path(cache), FP32)
        fast = embed(examples, threads, Path(cache), INT8)
    oof = out_of_fold_pair(fp32, fast, card["metrics"]["out_of_fold"]["fold_choices"], config)
    gold = [fp32.examples[i].label for i in oof["index"]]
    langs = [fp32.examples[i].language for i in oof["index"]]
    figures = {p: evaluate(oof[p], gold, langs) for p in (FP32, INT8)}
    f1 = {p: round(figures[p]["overall"]["macro_f1"], 6) for p in (FP32, INT8)}
    per_language = {
        lang: {p: round(figures[p]["per_language"][lang]["macro_f1"], 6) for p in (FP32, INT8)}
        for lang in sorted(figures[FP32]["per_language"])
    }
    texts = [fp32.examples[i].text for i in oof["index"]]
    full = {
        p: StanceClassifier.load(
            resolved, artifacts_dir=artifacts_dir, threads=threads, precision=p
        ).probabilities(texts, [detect_language(t) for t in texts])
        for p in (FP32, INT8)
    }
    change = round(f1[INT8] - f1[FP32], 6)
    agreement = compare(oof[FP32], oof[INT8])
    committed = compare(full[FP32], full[INT8])
    return {
        "version": resolved,
        "fast_path": FAST_PATH,
        "dev_passages": len(texts),
        "card_out_of_fold_macro_f1": card["metrics"]["out_of_fold"]["calibrated"]["overall"]["macro_f1"],
        "out_of_fold": {
            "macro_f1": f1,
            "change": change,
            "per_language_macro_f1": per_language,
            **agreement,
        },
        "committed_model": committed,
        "gate": {
            "max_f1_drop": MAX_F1_DROP,
            "min_identical_labels": MIN_AGREEMENT,
            "passes": bool(
                change >= -MAX_F1_DROP
                and agreement["identical_labels"] >= MIN_AGREEMENT
                and committed["identical_labels"] >= MIN_AGREEMENT
            ),
        },
        "measured": {
            "date": time.strftime("%Y-%m-%d"),
            "machine": platform.machine(),
            "load": round(os.getloadavg()[0], 2),
        },
    }


def sidecar_path(version: str, artifacts_dir: Path = ARTIFACTS_DIR) -> Path:
    """Where a version's fast-path figures live (next to its card)."""
    return artifacts_dir / f"{version}.fast_path.json"


def main(argv: Sequence[str] | None = None) -> int:
    """Measure the gate and write the sidecar; print it."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=Path, required=True)
    parser.add_argument("--version", default=None)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    figures = fast_path_figures(args.seeds, args.version, threads=args.threads)
    path = sidecar_path(figures["version"])
    path.write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print(json.dumps(figures, indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
