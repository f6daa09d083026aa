"""The probe suite (``seeds/probes.jsonl``): negations, attributions, topic-only strings, hard negatives.

Each probe names the labels it accepts (``expect``). A topic-only string (``abstain_ok``) also
passes when the model abstains on it (top probability below the abstention threshold): it
must not get a *confident* stance. Pairs (``pair``: an affirmative and its negation, or one
claim in a Beijing-side and a Seoul-side voice) pass when both members pass.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from models.labels import LABEL_INDEX

if TYPE_CHECKING:
    from models.classifier import Prediction, StanceClassifier

PROBES = "probes.jsonl"
KINDS: tuple[str, ...] = ("negation", "attribution", "topic", "hard_negative")


class ProbeError(ValueError):
    """A probe file row is malformed."""


@dataclass(frozen=True)
class Probe:
    """One probe: text, the labels it accepts, its kind, pair and whether abstaining passes."""

    ident: str
    kind: str
    lang: str
    text: str
    expect: tuple[str, ...]
    pair: str = ""
    abstain_ok: bool = False


def _probe(row: dict[str, Any], number: int) -> Probe:
    """Validate one decoded probe row."""
    expect = row.get("expect")
    if row.get("kind") not in KINDS:
        raise ProbeError(f"line {number}: kind {row.get('kind')!r} is not one of {', '.join(KINDS)}")
    if not isinstance(expect, list) or not expect or any(e not in LABEL_INDEX for e in expect):
        raise ProbeError(f"line {number}: expect must be a non-empty list of labels")
    if not isinstance(row.get("text"), str) or not row["text"].strip():
        raise ProbeError(f"line {number}: missing text")
    return Probe(
        str(row.get("id", number)),
        str(row["kind"]),
        str(row.get("lang", "")),
        row["text"],
        tuple(expect),
        str(row.get("pair", "")),
        bool(row.get("abstain_ok", False)),
    )


def load_probes(path: Path) -> list[Probe]:
    """Read a probe file (JSON lines)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [_probe(json.loads(line), n) for n, line in enumerate(lines, 1) if line.strip()]


def passes(probe: Probe, prediction: Prediction, threshold: float) -> bool:
    """True if the prediction is acceptable for the probe."""
    if prediction.label in probe.expect:
        return True
    return probe.abstain_ok and max(prediction.probs.values()) < threshold


def _rate(flags: Sequence[bool]) -> float | None:
    """Share of True values (None for none)."""
    return sum(flags) / len(flags) if flags else None


def run_probes(model: StanceClassifier, probes: Sequence[Probe], threshold: float) -> dict[str, Any]:
    """Pass rates per kind, per language and for pairs, with each probe's outcome."""
    predictions = model.predict_passages([p.text for p in probes])
    ok = [passes(p, q, threshold) for p, q in zip(probes, predictions, strict=True)]
    pairs: dict[str, list[bool]] = {}
    for probe, flag in zip(probes, ok, strict=True):
        if probe.pair:
            pairs.setdefault(probe.pair, []).append(flag)
    by_kind = {k: _rate([f for p, f in zip(probes, ok, strict=True) if p.kind == k]) for k in KINDS}
    langs = sorted({p.lang for p in probes})
    return {
        "n": len(probes),
        "pass_rate": _rate(ok),
        "by_kind": by_kind,
        "by_language": {g: _rate([f for p, f in zip(probes, ok, strict=True) if p.lang == g]) for g in langs},
        "pairs": {"n": len(pairs), "pass_rate": _rate([all(v) for v in pairs.values()])},
        "threshold": threshold,
        "results": [
            {"id": p.ident, "pred": q.label, "top": max(q.probs.values()), "pass": f}
            for p, q, f in zip(probes, predictions, ok, strict=True)
        ],
    }
