"""Training examples embedded once per encoder, stacked per head: what the build fits on."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from models import onnx_use
from models.encoders import ENGLISH_ONLY, FP32, USE, get_encoder
from models.heads import HEADS, HeadSpec
from models.labels import LABEL_INDEX
from models.training import Example


@dataclass
class Dataset:
    """Examples with their labels and per-head feature matrices."""

    examples: list[Example]
    labels: np.ndarray
    features: dict[str, np.ndarray] = field(default_factory=dict)
    rows: dict[str, np.ndarray] = field(default_factory=dict)

    def mask(self, head: str, source: str) -> np.ndarray:
        """Boolean mask, over the head's rows, of examples from ``source``."""
        return np.array([self.examples[i].source == source for i in self.rows[head]], dtype=bool)

    def served(self, spec: HeadSpec) -> np.ndarray:
        """Boolean mask, over the head's rows, of examples the head would serve at prediction time."""
        return np.array([spec.serves(self.examples[i].lang) for i in self.rows[spec.name]], dtype=bool)

    def texts(self, head: str) -> list[str]:
        """Text of each of the head's rows."""
        return [self.examples[i].text for i in self.rows[head]]

    def groups(self, head: str) -> list[str]:
        """CV group of each of the head's rows."""
        return [self.examples[i].group for i in self.rows[head]]


def encode_cached(
    name: str, texts: list[str], threads: int, cache_dir: Path | None, precision: str = FP32
) -> np.ndarray:
    """Embed texts with encoder ``name``; with ``cache_dir``, reuse and extend ``<name>.npz`` there.

    The cache is keyed by the encoder's file hashes and each text's SHA-256, so a changed encoder
    or text is re-encoded; experiments over the same dev set skip the encoders entirely. A precision
    other than fp32 is part of the key (the int8 graphs read the same files).
    """
    encoder = get_encoder(name, threads, precision)
    if cache_dir is None:
        return encoder.encode(texts)
    files = encoder.info()["files"]
    key = files if precision == FP32 else [files, precision, *([onnx_use.RECIPE] if name == USE else [])]
    stamp = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:12]
    path = cache_dir / f"{name}-{stamp}.npz"
    stored = dict(np.load(path)) if path.is_file() else {}
    keys = [hashlib.sha256(t.encode("utf-8")).hexdigest() for t in texts]
    missing = [i for i, k in enumerate(keys) if k not in stored]
    if missing:
        fresh = encoder.encode([texts[i] for i in missing])
        stored.update({keys[i]: row for i, row in zip(missing, fresh, strict=True)})
        cache_dir.mkdir(parents=True, exist_ok=True)
        np.savez(path, **stored)
    return np.array([stored[k] for k in keys], dtype=np.float32).reshape(len(texts), encoder.dim)


def embed(
    examples: Sequence[Example], threads: int, cache_dir: Path | None = None, precision: str = FP32
) -> Dataset:
    """Encode every example once per encoder its head needs (MiniLM at ``precision``); stack per head."""
    labels = np.array([LABEL_INDEX[e.label] for e in examples], dtype=np.int64)
    data = Dataset(list(examples), labels)
    needed: dict[str, set[str]] = {}
    for spec in HEADS:
        learn = [i for i, e in enumerate(examples) if spec.learns_from(e.lang) and e.trains(spec.name)]
        data.rows[spec.name] = np.array(learn, dtype=int)
        for name in spec.encoders:
            readable = (examples[i].text for i in data.rows[spec.name] if _reads(name, examples[i]))
            needed.setdefault(name, set()).update(readable)
    vectors: dict[str, dict[str, np.ndarray]] = {}
    for name in sorted(needed):
        texts = sorted(needed[name])
        matrix = encode_cached(name, texts, threads, cache_dir, precision)
        vectors[name] = dict(zip(texts, matrix, strict=True))
    for spec in HEADS:
        rows = data.rows[spec.name]
        dims = [get_encoder(n, threads).dim for n in spec.encoders]
        parts = [
            _block(vectors[n], [examples[i] for i in rows], n, d)
            for n, d in zip(spec.encoders, dims, strict=True)
        ]
        dim = sum(dims)
        data.features[spec.name] = np.hstack(parts) if len(rows) else np.zeros((0, dim))
    return data


def _reads(encoder: str, example: Example) -> bool:
    """Whether ``encoder`` has a meaningful vector for the example (English-only ones: English rows)."""
    return encoder not in ENGLISH_ONLY or example.lang == "en"


def _block(vectors: dict[str, np.ndarray], rows: Sequence[Example], encoder: str, dim: int) -> np.ndarray:
    """One encoder's feature block for the rows; zeros where the encoder cannot read the row."""
    block = np.zeros((len(rows), dim), dtype=np.float32)
    for k, example in enumerate(rows):
        if _reads(encoder, example):
            block[k] = vectors[example.text]
    return block
