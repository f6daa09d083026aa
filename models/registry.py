"""Model artifacts on disk: ``<version>.npz`` (head weights), ``<version>.card.json``/``.card.md``.

The version id is derived from the content hash of the head file, so the same inputs give
the same version. ``LATEST`` in the artifacts directory names the version loaded by default.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from pathlib import Path
from typing import Any

import numpy as np

from models.cues import CURRENT, CueSpec
from models.finetune import Delta
from models.heads import HEADS, LinearHead
from models.labels import LABELS
from models.lexicon import Lexicon

ARTIFACTS_DIR = Path(__file__).resolve().parent / "artifacts"
LATEST = "LATEST"
VERSION_PREFIX = "stance-"
_VERSION_RE = re.compile(r"^stance-[0-9a-f]{12}$")
ARTICLE_RULES = "article_rules"
"""Head-file entry naming the version's article rules, so the rule is part of the version id."""


class ModelNotFoundError(LookupError):
    """No artifact matches the requested version (the message lists those available)."""


def heads_bytes(
    heads: dict[str, LinearHead], delta: Delta | None = None, article_rules: tuple[str, ...] = ()
) -> bytes:
    """Serialise heads, the label order (a fine-tuned MiniLM delta, the article rules beyond the
    relevant share, e.g. ``korea_mention``) to deterministic ``.npz`` bytes."""
    arrays: dict[str, Any] = {"labels": np.array(LABELS)}
    if article_rules:
        arrays[ARTICLE_RULES] = np.array(article_rules, dtype=np.str_)
    if delta is not None:
        arrays.update(delta.arrays("en.minilm_delta"))
    for name in sorted(heads):
        head = heads[name]
        arrays[f"{name}.coef"] = np.asarray(head.coef, dtype=np.float64)
        arrays[f"{name}.intercept"] = np.asarray(head.intercept, dtype=np.float64)
        arrays[f"{name}.temperature"] = np.array([head.temperature], dtype=np.float64)
        if head.lexicon is not None:
            arrays[f"{name}.vocabulary"] = np.array(head.lexicon.vocabulary, dtype=np.str_)
            arrays[f"{name}.idf"] = np.asarray(head.lexicon.idf, dtype=np.float64)
            arrays[f"{name}.analyzer"] = np.array([head.lexicon.analyzer], dtype=np.str_)
        if head.extras:
            arrays[f"{name}.extras"] = np.array(head.extras, dtype=np.str_)
        if head.temperatures:
            langs = sorted(head.temperatures)
            arrays[f"{name}.temperature_languages"] = np.array(langs, dtype=np.str_)
            arrays[f"{name}.temperature_values"] = np.array([head.temperatures[k] for k in langs])
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def version_of(data: bytes) -> str:
    """Version id of a head file: ``stance-`` plus 12 hex digits of its SHA-256."""
    return VERSION_PREFIX + hashlib.sha256(data).hexdigest()[:12]


def read_article_rules(path: Path) -> tuple[str, ...]:
    """The article rules a version's head file names (none for versions built before them)."""
    with np.load(path, allow_pickle=False) as data:
        return tuple(str(x) for x in data[ARTICLE_RULES]) if ARTICLE_RULES in data.files else ()


def feature_spec(heads: dict[str, LinearHead]) -> dict[str, Any]:
    """The card's ``feature_spec``: the cue spec of every head that reads cue-derived blocks."""
    return {name: json.loads(head.cues.to_json()) for name, head in sorted(heads.items()) if head.extras}


def read_heads(path: Path, spec: dict[str, Any] | None = None) -> dict[str, LinearHead]:
    """Load the heads of a ``.npz`` artifact, checking its label order.

    ``spec`` is the version card's ``feature_spec``: the cue patterns each head was fitted with, so
    a version keeps building the features its weights expect after ``models.cues`` changes.
    """
    with np.load(path, allow_pickle=False) as data:
        labels = tuple(str(x) for x in data["labels"])
        if labels != LABELS:
            raise ValueError(f"{path}: artifact label order {labels} differs from {LABELS}")
        heads = {}
        for head in HEADS:
            name = head.name
            heads[name] = LinearHead(
                coef=np.array(data[f"{name}.coef"]),
                intercept=np.array(data[f"{name}.intercept"]),
                temperature=float(data[f"{name}.temperature"][0]),
                lexicon=_lexicon(data, name),
                extras=tuple(str(x) for x in data.get(f"{name}.extras", [])),
                temperatures=_temperatures(data, name),
                cues=CueSpec.from_json(json.dumps(spec[name])) if spec and name in spec else CURRENT,
            )
    return heads


def _lexicon(data: Any, name: str) -> Lexicon | None:
    """A head's lexicon from an open ``.npz`` (word analyzer when none is recorded)."""
    if f"{name}.vocabulary" not in data.files:
        return None
    vocabulary = tuple(str(t) for t in data[f"{name}.vocabulary"])
    analyzer = str(data[f"{name}.analyzer"][0]) if f"{name}.analyzer" in data.files else "word"
    return Lexicon(vocabulary, np.array(data[f"{name}.idf"]), analyzer)


def _temperatures(data: Any, name: str) -> dict[str, float]:
    """A head's per-language temperatures from an open ``.npz`` (none recorded: empty)."""
    if f"{name}.temperature_languages" not in data.files:
        return {}
    langs = [str(x) for x in data[f"{name}.temperature_languages"]]
    return dict(zip(langs, (float(v) for v in data[f"{name}.temperature_values"]), strict=True))


def write_artifact(
    out_dir: Path, data: bytes, card: dict[str, Any], card_md: str, extra: dict[str, bytes] | None = None
) -> str:
    """Write head file, JSON and markdown card (and ``extra`` files: a figure); point ``LATEST`` at it."""
    version = version_of(data)
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, content in (extra or {}).items():
        (out_dir / name).write_bytes(content)
    (out_dir / f"{version}.npz").write_bytes(data)
    (out_dir / f"{version}.card.json").write_text(
        json.dumps(card, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    (out_dir / f"{version}.card.md").write_text(card_md, encoding="utf-8")
    (out_dir / LATEST).write_text(version + "\n", encoding="utf-8")
    return version


def list_versions(artifacts_dir: Path = ARTIFACTS_DIR) -> list[str]:
    """Every version with a head file and a card in ``artifacts_dir``, sorted."""
    if not artifacts_dir.is_dir():
        return []
    names = (p.name.removesuffix(".npz") for p in artifacts_dir.glob(f"{VERSION_PREFIX}*.npz"))
    return sorted(n for n in names if (artifacts_dir / f"{n}.card.json").is_file())


def resolve_version(version: str | None, artifacts_dir: Path = ARTIFACTS_DIR) -> str:
    """The requested version, or the one named by ``LATEST``; fail listing what exists."""
    available = list_versions(artifacts_dir)
    if version is None:
        pointer = artifacts_dir / LATEST
        if pointer.is_file():
            version = pointer.read_text(encoding="utf-8").strip()
        elif len(available) == 1:
            version = available[0]
        else:
            raise ModelNotFoundError(
                f"no {LATEST} file in {artifacts_dir}; pass a version"
                f" ({', '.join(available) or 'none built'}) or run `axiswatch model build`"
            )
    if not _VERSION_RE.match(version) or version not in available:
        raise ModelNotFoundError(
            f"model version {version!r} not found in {artifacts_dir}; "
            f"available: {', '.join(available) or 'none (run `axiswatch model build`)'}"
        )
    return version


def read_card(version: str, artifacts_dir: Path = ARTIFACTS_DIR) -> dict[str, Any]:
    """The JSON card of a version."""
    card: dict[str, Any] = json.loads((artifacts_dir / f"{version}.card.json").read_text(encoding="utf-8"))
    return card
