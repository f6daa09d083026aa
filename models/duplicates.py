"""Near-duplicate passages in a labelled set: character 3-gram Jaccard, one threshold for all languages.

Two restatements of one source sentence in different URLs put the same passage in two folds (a
leak, since folds are grouped by URL); in one URL they count it twice. The dev set's audit that
set the threshold: the highest pair of different passages was 0.396 (two separate North Korean
cruise-missile launches), the lowest restated pair above it 0.45 (see stance-dev/LABELLING.md).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

NGRAM = 3
THRESHOLD = 0.45


@dataclass(frozen=True)
class NearDuplicate:
    """Two passages whose character 3-gram sets overlap at or above the threshold."""

    first: str
    second: str
    similarity: float
    same_group: bool


def shingles(text: str, n: int = NGRAM) -> frozenset[str]:
    """Character n-grams of a text, lower-cased with runs of whitespace folded to one space."""
    folded = re.sub(r"\s+", " ", text.lower()).strip()
    return frozenset(folded[i : i + n] for i in range(max(len(folded) - n + 1, 1)))


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    """Jaccard similarity of two n-gram sets (0 for two empty sets)."""
    union = len(a | b)
    return len(a & b) / union if union else 0.0


def near_duplicates(
    rows: Sequence[tuple[str, str, str]], threshold: float = THRESHOLD
) -> list[NearDuplicate]:
    """Every pair of ``(id, group, text)`` rows at or above ``threshold``, most similar first."""
    grams = [shingles(text) for _, _, text in rows]
    found = []
    for i in range(len(rows)):
        for j in range(i + 1, len(rows)):
            similarity = jaccard(grams[i], grams[j])
            if similarity >= threshold:
                same = rows[i][1] == rows[j][1]
                found.append(NearDuplicate(rows[i][0], rows[j][0], similarity, same))
    return sorted(found, key=lambda d: -d.similarity)


def describe(pairs: Sequence[NearDuplicate]) -> str:
    """One line per pair, naming a cross-URL pair a fold leak."""
    kind = {True: "same URL", False: "different URLs: fold leak"}
    return "; ".join(f"{d.first}/{d.second} {d.similarity:.2f} ({kind[d.same_group]})" for d in pairs)
