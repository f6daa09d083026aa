"""The optional outlet prior (off by default): the outlet's country/affiliation as a label prior.

A prior makes "stance by outlet kind" partly true by construction, so the model never uses it
when scoring; the card measures what it would add, out of fold. For each outer fold,
P(label | outlet kind) and P(label) are counted (add-one smoothed) on the dev passages of the
other folds only, and a test passage's calibrated probabilities are multiplied by
P(label | kind) / P(label) and renormalised.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from models.evaluate import evaluate
from models.labels import LABEL_INDEX, LABELS

KINDS: dict[str, str] = {
    "cn_state": r"global times|xinhua|people's daily|china daily|cgtn|ecns|china\.org"
    r"|china news service|cri\b|环球|新华|人民|中国日报|国际在线|央视|外交部",
    "kr": r"korea|joongang|chosun|dong-a|hankyoreh|yonhap|kbs|ytn|edaily|kukmin|news1|channel a|seoul|herald"
    r"|munhwa|maeil|hankook|newspic|韩联社|朝鲜日报|東亞|东亚|조선|중앙|한겨레|연합|동아|경향",
    "us": r"washington post|\bap\b|voa|national interest|new york times|wall street|bloomberg|cnn"
    r"|csis|brookings",
}
_COMPILED = {kind: re.compile(pattern, re.I) for kind, pattern in KINDS.items()}


def outlet_kind(outlet: str) -> str:
    """``cn_state``, ``kr``, ``us`` or ``other`` from the outlet's own name (the part before any bracket)."""
    name = re.split(r"[(（]", outlet or "", maxsplit=1)[0]
    return next((kind for kind, pattern in _COMPILED.items() if pattern.search(name)), "other")


def outlets_by_id(dev_path: Path) -> dict[str, str]:
    """The ``outlet`` of every dev passage, by id."""
    rows = [json.loads(x) for x in dev_path.read_text(encoding="utf-8").splitlines() if x.strip()]
    return {str(r.get("id")): str(r.get("outlet") or "") for r in rows}


def _ratios(gold: Sequence[str], kinds: Sequence[str]) -> dict[str, np.ndarray]:
    """P(label | kind) / P(label), add-one smoothed, per kind seen."""
    y = np.array([LABEL_INDEX[g] for g in gold])
    overall = (np.bincount(y, minlength=len(LABELS)) + 1.0) / (len(y) + len(LABELS))
    out = {}
    for kind in sorted(set(kinds)):
        rows = y[np.array([k == kind for k in kinds])]
        out[kind] = (np.bincount(rows, minlength=len(LABELS)) + 1.0) / (len(rows) + len(LABELS)) / overall
    return out


def with_prior(probs: np.ndarray, gold: Sequence[str], kinds: Sequence[str], folds: np.ndarray) -> np.ndarray:
    """Out-of-fold probabilities times the outlet prior estimated on the other folds."""
    out = np.array(probs, dtype=np.float64)
    for f in sorted(set(folds.tolist())):
        train = [int(i) for i in np.flatnonzero(folds != f)]
        ratios = _ratios([gold[i] for i in train], [kinds[i] for i in train])
        for i in (int(k) for k in np.flatnonzero(folds == f)):
            out[i] *= ratios.get(kinds[i], np.ones(len(LABELS)))
    return np.asarray(out / out.sum(axis=1, keepdims=True))


def prior_section(
    probs: np.ndarray, gold: Sequence[str], langs: Sequence[str], outlets: Sequence[str], folds: np.ndarray
) -> dict[str, Any]:
    """The card's ``outlet_prior`` field: what the prior would change out of fold (not used by the model)."""
    kinds = [outlet_kind(o) for o in outlets]
    adjusted = evaluate(with_prior(probs, gold, kinds, folds), gold, langs)
    return {
        "used_by_model": False,
        "kinds": {k: kinds.count(k) for k in sorted(set(kinds))},
        "macro_f1": {
            "all": adjusted["overall"]["macro_f1"],
            **{g: m["macro_f1"] for g, m in adjusted["per_language"].items()},
        },
        "ece": adjusted["overall"]["ece"],
    }
