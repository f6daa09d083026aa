"""Near-duplicate detection: MinHash signatures over shingles, banded for candidate lookup.

A syndicated copy of a wire story usually differs by a dateline, a byline or a trimmed last
paragraph. Word 3-shingles (character 4-grams for Chinese/Japanese/Korean text without
spaces) keep the resemblance high for such copies and near zero for different stories. 128
MinHash values estimate the Jaccard resemblance; 32 bands of 4 values let the warehouse find
candidates with an indexed equality join instead of comparing every pair. The hashing is
fixed (blake2b, seeded multipliers), so signatures are stable across processes and versions.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

import numpy as np

from models.language import CJK_LANGUAGES, script_language
from warehouse.lsh import BANDS, EMPTY, NUM_PERM, ROWS, bands, from_bytes, resemblance, to_bytes

__all__ = [
    "BANDS",
    "EMPTY",
    "NUM_PERM",
    "ROWS",
    "bands",
    "from_bytes",
    "resemblance",
    "shingles",
    "signature",
    "to_bytes",
]

_RNG = np.random.default_rng(20251210)
_SALTS = _RNG.integers(1, 2**63, size=NUM_PERM, dtype=np.uint64)
_MULTS = _RNG.integers(1, 2**63, size=NUM_PERM, dtype=np.uint64) | np.uint64(1)
_WORD = re.compile(r"\w+", re.UNICODE)


def shingles(text: str) -> set[str]:
    """Word 3-shingles, or character 4-grams when the text is Korean, Chinese or Japanese."""
    norm = unicodedata.normalize("NFKC", text).lower()
    if script_language(norm) in CJK_LANGUAGES:
        chars = "".join(c for c in norm if c.isalnum())
        return {chars[i : i + 4] for i in range(max(1, len(chars) - 3))}
    words = _WORD.findall(norm)
    if len(words) < 3:
        return {" ".join(words)} if words else set()
    return {" ".join(words[i : i + 3]) for i in range(len(words) - 2)}


def signature(text: str) -> np.ndarray:
    """The MinHash signature (NUM_PERM uint32 values) of a text."""
    grams = shingles(text)
    if not grams:
        return EMPTY.copy()
    base = np.fromiter(
        (int.from_bytes(hashlib.blake2b(g.encode(), digest_size=8).digest(), "little") for g in grams),
        dtype=np.uint64,
        count=len(grams),
    )
    with np.errstate(over="ignore"):
        mixed = (base[:, None] ^ _SALTS[None, :]) * _MULTS[None, :]
    sig: np.ndarray = (mixed >> np.uint64(32)).astype(np.uint32).min(axis=0)
    return sig
