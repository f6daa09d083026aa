"""Analyst labels (exported by `axiswatch labels export`) as training data, and their measured effect.

Analyst examples (source "analyst") are always training rows, never test rows: the dev set alone
is held out, so the card can compare the dev set's out-of-fold figures with and without them. A
labelled passage whose text is already a seed, pole or dev passage is not added (the existing
label stands, and a dev passage must never be trained on); how often the analyst agreed with that
label is reported instead.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from models.build import BuildConfig, build
from models.card import rounded
from models.crossval import out_of_fold
from models.dataset import Dataset
from models.encoders import sha256_file
from models.evaluate import evaluate, load_labelled
from models.language import detect_language
from models.training import Example, text_hash

SOURCE = "analyst"


def analyst_examples(path: Path) -> list[Example]:
    """Every labelled passage of an exported labels file, as an analyst example grouped by URL."""
    return [
        Example(p.id, p.text, p.label, detect_language(p.text), SOURCE, f"analyst:{p.group}", p.lang or "")
        for p in load_labelled(path)
    ]


def split_overlap(
    labelled: Sequence[Example], existing: Sequence[Example]
) -> tuple[list[Example], list[dict[str, Any]]]:
    """Analyst examples whose text is new, and the others with the label already given to their text."""
    known = {text_hash(e.text): e for e in existing}
    new, overlap = [], []
    for example in labelled:
        twin = known.get(text_hash(example.text))
        if twin is None:
            new.append(example)
        else:
            overlap.append(
                {"id": example.ident, "source": twin.source, "analyst": example.label, "existing": twin.label}
            )
    return new, overlap


def without_source(data: Dataset, source: str) -> Dataset:
    """The same dataset with every row of ``source`` removed from every head."""
    out = Dataset(data.examples, data.labels)
    for head, rows in data.rows.items():
        keep = np.array([data.examples[int(i)].source != source for i in rows], dtype=bool)
        out.rows[head] = rows[keep]
        out.features[head] = data.features[head][keep]
    return out


def _summary(data: Dataset, oof: dict[str, Any] | None) -> dict[str, Any] | None:
    """Macro-F1, ECE and NLL of out-of-fold dev predictions, overall and per language."""
    if oof is None:
        return None
    examples = [data.examples[i] for i in oof["index"]]
    report = evaluate(oof["calibrated"], [e.label for e in examples], [e.language for e in examples])
    pick = ("n", "macro_f1", "accuracy", "ece", "nll")
    return {
        "overall": {k: report["overall"][k] for k in pick},
        "per_language": {lang: {k: m[k] for k in pick} for lang, m in report["per_language"].items()},
    }


def effect(
    data: Dataset,
    oof: dict[str, Any] | None,
    config: BuildConfig,
    labels_path: Path,
    overlap: list[dict[str, Any]],
) -> dict[str, Any]:
    """The card's ``analyst_labels`` section: what was added and the dev set's OOF figures without/with it."""
    used = [e for e in data.examples if e.source == SOURCE]
    without = (
        _summary(data, out_of_fold(without_source(data, SOURCE), config)) if used else _summary(data, oof)
    )
    with_labels = _summary(data, oof)
    delta = None
    if without and with_labels:
        delta = with_labels["overall"]["macro_f1"] - without["overall"]["macro_f1"]
    agreed = sum(o["analyst"] == o["existing"] for o in overlap)
    section = {
        "file": {"path": str(labels_path), "sha256": sha256_file(labels_path)},
        "n_used": len(used),
        "by_label": dict(sorted(Counter(e.label for e in used).items())),
        "by_language": dict(sorted(Counter(e.language for e in used).items())),
        "not_used_already_labelled": {"n": len(overlap), "agreeing_with_existing_label": agreed},
        "dev_out_of_fold": {"without_analyst_labels": without, "with_analyst_labels": with_labels},
        "delta_macro_f1": delta,
        "note": "analyst labels are training rows only; the dev set alone is held out, so the two dev"
        " figures differ only by the analyst labels in training",
    }
    return {"analyst_labels": rounded(section)}


def build_with_labels(
    out_dir: Path, config: BuildConfig, *, seeds_dir: Path, dev_path: Path | None, labels_path: Path
) -> str:
    """`model build --with-labels`: a build whose training data includes the exported analyst labels."""
    from models.build import load_examples
    from models.training import default_dev_path

    dev = dev_path if dev_path is not None else default_dev_path(seeds_dir)
    new, overlap = split_overlap(analyst_examples(labels_path), load_examples(seeds_dir, dev, config))

    def card_extra(data: Dataset, oof: dict[str, Any] | None) -> dict[str, Any]:
        """The analyst-label section of this build's card."""
        return effect(data, oof, config, labels_path, overlap)

    return build(out_dir, config, seeds_dir=seeds_dir, dev_path=dev, extra=new, card_extra=card_extra)
