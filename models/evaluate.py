"""Evaluation on a labelled set: macro-F1, per-class P/R/F1, per language, confusion, ECE.

All functions here are pure: they take gold labels and probability rows (columns in
``LABELS`` order) and return plain numbers, lists and dicts, ready for JSON.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from models.labels import LABEL_INDEX, LABELS

ECE_BINS = 15


class LabelledDataError(ValueError):
    """A labelled data file has lines that cannot be used; the message lists them."""


@dataclass(frozen=True)
class LabelledPassage:
    """One labelled passage of an evaluation file (the dev set's format)."""

    id: str
    label: str
    text: str
    lang: str | None
    group: str


def confusion(gold: Sequence[str], pred: Sequence[str]) -> np.ndarray:
    """Confusion counts: rows are gold labels, columns predictions, both in ``LABELS`` order."""
    if len(gold) != len(pred):
        raise ValueError(f"{len(gold)} gold labels but {len(pred)} predictions")
    matrix = np.zeros((len(LABELS), len(LABELS)), dtype=np.int64)
    for g, p in zip(gold, pred, strict=True):
        matrix[LABEL_INDEX[g], LABEL_INDEX[p]] += 1
    return matrix


def per_class(matrix: np.ndarray) -> dict[str, dict[str, float]]:
    """Precision, recall, F1 and support of each label from a confusion matrix (0 when undefined)."""
    out: dict[str, dict[str, float]] = {}
    for i, label in enumerate(LABELS):
        tp = float(matrix[i, i])
        predicted = float(matrix[:, i].sum())
        support = float(matrix[i, :].sum())
        precision = tp / predicted if predicted else 0.0
        recall = tp / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        out[label] = {"precision": precision, "recall": recall, "f1": f1, "support": support}
    return out


def macro_f1(matrix: np.ndarray, *, present_only: bool = False) -> float:
    """Unweighted mean F1 over the four labels (or only those with gold support)."""
    scores = per_class(matrix)
    used = [s["f1"] for s in scores.values() if s["support"] > 0 or not present_only]
    return float(np.mean(used)) if used else 0.0


def expected_calibration_error(probs: np.ndarray, gold: Sequence[str], n_bins: int = ECE_BINS) -> float:
    """Top-label ECE: bins of equal width over confidence, |accuracy − confidence| weighted by size."""
    probs = np.asarray(probs, dtype=np.float64)
    if len(probs) == 0:
        return 0.0
    confidence = probs.max(axis=1)
    correct = probs.argmax(axis=1) == np.array([LABEL_INDEX[g] for g in gold])
    bins = np.minimum((confidence * n_bins).astype(np.int64), n_bins - 1)
    total = 0.0
    for b in range(n_bins):
        members = bins == b
        if members.any():
            gap = abs(float(correct[members].mean()) - float(confidence[members].mean()))
            total += gap * float(members.sum()) / len(probs)
    return total


def summarize(probs: np.ndarray, gold: Sequence[str]) -> dict[str, Any]:
    """Metrics of one group of passages: n, accuracy, macro-F1, per class, confusion, ECE, NLL."""
    probs = np.asarray(probs, dtype=np.float64)
    pred = [LABELS[i] for i in probs.argmax(axis=1)] if len(probs) else []
    matrix = confusion(gold, pred)
    gold_idx = np.array([LABEL_INDEX[g] for g in gold], dtype=np.int64)
    picked = probs[np.arange(len(gold_idx)), gold_idx] if len(gold_idx) else np.zeros(0)
    return {
        "n": len(gold),
        "accuracy": float(np.trace(matrix) / len(gold)) if len(gold) else 0.0,
        "macro_f1": macro_f1(matrix),
        "macro_f1_present": macro_f1(matrix, present_only=True),
        "per_class": per_class(matrix),
        "confusion": {"labels": list(LABELS), "matrix": matrix.tolist()},
        "ece": expected_calibration_error(probs, gold),
        "nll": float(-np.mean(np.log(np.clip(picked, 1e-12, 1.0)))) if len(picked) else 0.0,
    }


def evaluate(probs: np.ndarray, gold: Sequence[str], languages: Sequence[str]) -> dict[str, Any]:
    """Overall metrics plus the same metrics per language."""
    probs = np.asarray(probs, dtype=np.float64)
    report: dict[str, Any] = {"overall": summarize(probs, gold), "per_language": {}}
    for lang in sorted(set(languages)):
        idx = [i for i, code in enumerate(languages) if code == lang]
        report["per_language"][lang] = summarize(probs[idx], [gold[i] for i in idx])
    return report


def load_labelled(path: Path) -> list[LabelledPassage]:
    """Read a JSON-lines file of ``{"id", "label", "text", ["lang", "url"]}``; list every bad line."""
    passages: list[LabelledPassage] = []
    problems: list[str] = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                passages.append(_parse_labelled(json.loads(line), number))
            except (ValueError, TypeError) as exc:
                problems.append(f"line {number}: {exc}")
    if problems:
        raise LabelledDataError(f"{path}: {len(problems)} bad line(s): " + "; ".join(problems[:20]))
    if not passages:
        raise LabelledDataError(f"{path}: no labelled passages")
    return passages


def _parse_labelled(row: Any, number: int) -> LabelledPassage:
    """Validate one decoded line of a labelled file."""
    if not isinstance(row, dict):
        raise ValueError("not a JSON object")
    text, label = row.get("text"), row.get("label")
    if not isinstance(text, str) or not text.strip():
        raise ValueError("missing or empty 'text'")
    if label not in LABEL_INDEX:
        raise ValueError(f"label {label!r} is not one of {', '.join(LABELS)}")
    lang = row.get("lang")
    ident = str(row.get("id", number))
    group = str(row.get("url") or ident)
    return LabelledPassage(ident, str(label), text, lang if isinstance(lang, str) else None, group)


def format_report(report: dict[str, Any]) -> str:
    """Human-readable summary of an ``evaluate`` report."""
    lines = []
    groups = [("all", report["overall"]), *sorted(report["per_language"].items())]
    lines.append(f"{'group':8} {'n':>4} {'acc':>6} {'macroF1':>8} {'ECE':>6}")
    for name, m in groups:
        lines.append(f"{name:8} {m['n']:>4} {m['accuracy']:>6.3f} {m['macro_f1']:>8.3f} {m['ece']:>6.3f}")
    lines.append("")
    lines.append(f"{'label':11} {'P':>6} {'R':>6} {'F1':>6} {'n':>4}")
    for label, s in report["overall"]["per_class"].items():
        lines.append(
            f"{label:11} {s['precision']:>6.3f} {s['recall']:>6.3f} {s['f1']:>6.3f} {int(s['support']):>4}"
        )
    lines.append("")
    lines.append("confusion (rows gold, columns predicted): " + " ".join(LABELS))
    for label, row in zip(LABELS, report["overall"]["confusion"]["matrix"], strict=True):
        lines.append(f"{label:11} " + " ".join(f"{v:>5}" for v in row))
    return "\n".join(lines)
