"""The storage side of near-duplicate detection: MinHash signatures as bytes, LSH bands, resemblance.

Signatures are computed at ingest (``flows.ingest.dedup``); the warehouse keeps them in
``articles.fingerprint`` and their 32 bands of 4 values in ``article_bands``, so a new article
finds its candidates with one indexed lookup inside the transaction that stores it.
"""

from __future__ import annotations

import hashlib

import numpy as np

NUM_PERM = 128
BANDS = 32
ROWS = NUM_PERM // BANDS
EMPTY = np.full(NUM_PERM, np.iinfo(np.uint32).max, dtype=np.uint32)


def to_bytes(sig: np.ndarray) -> bytes:
    """Serialise a signature for the warehouse (little-endian uint32)."""
    return sig.astype("<u4").tobytes()


def from_bytes(blob: bytes) -> np.ndarray:
    """Read a signature stored by ``to_bytes``."""
    return np.frombuffer(blob, dtype="<u4")


def bands(sig: np.ndarray) -> list[tuple[int, int]]:
    """(band number, bucket) pairs for LSH lookup; bucket fits a signed BIGINT."""
    out = []
    for band in range(BANDS):
        chunk = to_bytes(sig[band * ROWS : (band + 1) * ROWS])
        digest = hashlib.blake2b(chunk, digest_size=8).digest()
        out.append((band, int.from_bytes(digest, "little") >> 1))
    return out


def resemblance(a: np.ndarray, b: np.ndarray) -> float:
    """Estimated Jaccard resemblance of the two texts behind two signatures."""
    if np.array_equal(a, EMPTY) or np.array_equal(b, EMPTY):
        return 0.0
    return float(np.mean(a == b))
