"""Card figures beyond F1: Washington↔Beijing confusions, abstention, voice accuracy, reliability diagram."""

from __future__ import annotations

import io
import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from models.evaluate import ECE_BINS
from models.labels import LABEL_INDEX
from models.voice import VOICES, detect_voice

THRESHOLD_GRID: tuple[float, ...] = tuple(round(0.30 + 0.025 * k, 3) for k in range(17))
"""Abstention thresholds considered (top probability 0.30 … 0.70)."""
MIN_COVERAGE = 0.85
"""Least share of dev passages the article score may keep when abstaining."""


def polar_confusion(matrix: Sequence[Sequence[int]]) -> dict[str, Any]:
    """Washington↔Beijing confusions (either way) as a share of gold-polar passages."""
    w, b = LABEL_INDEX["washington"], LABEL_INDEX["beijing"]
    polar = int(sum(matrix[w])) + int(sum(matrix[b]))
    swapped = int(matrix[w][b]) + int(matrix[b][w])
    return {"swapped": swapped, "polar": polar, "share": swapped / polar if polar else 0.0}


def choose_threshold(probs: np.ndarray, gold: Sequence[str]) -> dict[str, Any]:
    """The highest grid threshold keeping ≥ ``MIN_COVERAGE`` of passages, from out-of-fold rows.

    Below it passages are least reliable: the card reports accuracy kept vs ignored.
    """
    top = probs.max(axis=1)
    correct = probs.argmax(axis=1) == np.array([LABEL_INDEX[g] for g in gold])
    chosen = THRESHOLD_GRID[0]
    for t in THRESHOLD_GRID:
        if (top >= t).mean() >= MIN_COVERAGE:
            chosen = t
    kept = top >= chosen
    return {
        "threshold": chosen,
        "rule": f"highest top-probability threshold in {THRESHOLD_GRID[0]}..{THRESHOLD_GRID[-1]} (step 0.025)"
        f" that keeps at least {MIN_COVERAGE:.0%} of dev passages, read from out-of-fold probabilities",
        "n": len(gold),
        "ignored": int((~kept).sum()),
        "accuracy_kept": float(correct[kept].mean()) if kept.any() else None,
        "accuracy_ignored": float(correct[~kept].mean()) if (~kept).any() else None,
    }


def voice_accuracy(dev_path: Path) -> dict[str, Any]:
    """Accuracy of ``detect_voice`` against the dev set's hand-read ``voice``, per language."""
    rows = [json.loads(x) for x in dev_path.read_text(encoding="utf-8").splitlines() if x.strip()]
    rows = [r for r in rows if r.get("voice") in VOICES]
    pairs = [(r["lang"], r["voice"], detect_voice(r["text"], r["lang"])) for r in rows]
    langs = sorted({lang for lang, _, _ in pairs})
    per = {g: [v == d for lang, v, d in pairs if lang == g] for g in langs}
    matrix = Counter(f"{v}->{d}" for _, v, d in pairs)
    return {
        "n": len(pairs),
        "accuracy": sum(v == d for _, v, d in pairs) / len(pairs) if pairs else None,
        "per_language": {g: {"n": len(f), "accuracy": sum(f) / len(f)} for g, f in per.items()},
        "confusion": dict(sorted(matrix.items())),
    }


def reliability_png(probs: np.ndarray, gold: Sequence[str], title: str, n_bins: int = ECE_BINS) -> bytes:
    """A reliability diagram (accuracy vs confidence, 15 equal-width bins) as PNG bytes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    top = probs.max(axis=1)
    correct = probs.argmax(axis=1) == np.array([LABEL_INDEX[g] for g in gold])
    bins = np.minimum((top * n_bins).astype(int), n_bins - 1)
    centers = (np.arange(n_bins) + 0.5) / n_bins
    used = [b for b in range(n_bins) if (bins == b).any()]
    acc = [float(correct[bins == b].mean()) for b in used]
    conf = [float(top[bins == b].mean()) for b in used]
    fig, ax = plt.subplots(figsize=(4.5, 4.5), dpi=100)
    ax.bar(centers[used], acc, width=1.0 / n_bins, edgecolor="black", alpha=0.6, label="accuracy")
    ax.plot(conf, acc, "o", color="C3", label="mean confidence")
    ax.plot([0, 1], [0, 1], "--", color="grey", label="perfect calibration")
    ax.set(
        xlabel=f"top probability ({n_bins} bins)", ylabel="accuracy", xlim=(0, 1), ylim=(0, 1), title=title
    )
    ax.legend(loc="upper left", fontsize=8)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", metadata={"Software": None})
    plt.close(fig)
    return buffer.getvalue()
