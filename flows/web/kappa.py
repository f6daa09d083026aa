"""Agreement between analysts: Cohen's kappa on passages both labelled."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any


def cohen_kappa(a: Sequence[str], b: Sequence[str]) -> float | None:
    """Cohen's kappa of two label sequences over the same items (None if undefined)."""
    n = len(a)
    if n == 0 or n != len(b):
        return None
    observed = sum(x == y for x, y in zip(a, b, strict=True)) / n
    ca, cb = Counter(a), Counter(b)
    expected = sum(ca[k] * cb[k] for k in set(ca) | set(cb)) / (n * n)
    if expected >= 1.0:
        return 1.0 if observed == 1.0 else None
    return (observed - expected) / (1.0 - expected)


def agreement(pairs: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per analyst pair: passages both labelled, observed agreement, kappa, disagreements."""
    by_pair: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in pairs:
        by_pair.setdefault((row["analyst_a"], row["analyst_b"]), []).append(row)
    out = []
    for (first, second), items in sorted(by_pair.items()):
        la = [r["label_a"] for r in items]
        lb = [r["label_b"] for r in items]
        out.append(
            {
                "analyst_a": first,
                "analyst_b": second,
                "n": len(items),
                "observed": sum(x == y for x, y in zip(la, lb, strict=True)) / len(items),
                "kappa": cohen_kappa(la, lb),
                "disagreements": [r for r in items if r["label_a"] != r["label_b"]],
            }
        )
    return out
