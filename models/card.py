"""The model card: what a version was fitted on, how it was chosen, and every figure it scored."""

from __future__ import annotations

import os
import platform
from collections import Counter
from importlib.metadata import version as package_version
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from models.aggregate import aggregate
from models.encoders import get_encoder, sha256_file
from models.evaluate import evaluate
from models.heads import HEADS
from models.labels import LABELS
from models.language import detect_language
from models.passages import segment
from models.relevance import relevance_rule
from models.training import SEED_ARTICLE, data_files, load_seed_labels, text_hash

if TYPE_CHECKING:
    from models.classifier import Prediction, StanceClassifier
    from models.dataset import Dataset

TARGETS = {"en_macro_f1": 0.70, "all_macro_f1": 0.65, "ece_max": 0.10, "seed_score_min": 0.30}
NOTES = [
    "Encoders are frozen; each head is a class-balanced multinomial logistic regression over the"
    " embeddings (and, for the English head, word features; see below).",
    "Out-of-fold figures are nested: C and the temperature of each outer fold were chosen by"
    " grouped CV inside that fold's training part. Folds are grouped by URL.",
    "Seed-article paragraphs and pole statements are always in training; only dev passages are"
    " ever held out. The 'in_sample' seed-article score is therefore in-sample; 'without_seed'"
    " comes from heads refitted without the seed paragraphs.",
    "Pole statements were written by the model author after reading the dev set; phrasing of"
    " specific dev passages was avoided, but out-of-fold figures may still be slightly optimistic.",
    "The feature design (MiniLM+USE for English, USE for other languages) was chosen after"
    " comparing a few variants out of fold; SetFit-style fine-tuning of MiniLM did not help"
    " out of fold and is not used.",
    "30 English pole statements that contrast the direction on shared topics (missile defence, chips,"
    " Taiwan, supply chains, exercises: Seoul siding with Washington vs criticised from / urged"
    " toward Beijing, plus hedges) are marked heads=[en]: they train only the English head. This"
    " was chosen over 4 other variants (with/without 6 off-topic statements, Korean and Chinese"
    " translations, all English poles out of the multilingual head) on 3 nested out-of-fold fold"
    " splits (seeds 0, 1, 2): English macro-F1 rose on every split (0.643/0.681/0.657 to"
    " 0.671/0.723/0.684), all-language macro-F1 too (0.665/0.699/0.672 to 0.680/0.723/0.684);"
    " ECE moved 0.113/0.117/0.112 to 0.122/0.114/0.093. In the multilingual head the same statements"
    " (or their translations) lowered Korean macro-F1, so they stay out of it. Picking the best of"
    " 5 variants on the dev set makes these figures slightly optimistic.",
    "Also tried without gain across the 3 splits: averaging the English and multilingual heads'"
    " calibrated probabilities for English passages (weights 0.5 and 0.7).",
    "The English head also reads word features: TF-IDF of word unigrams (terms in >= 2 training"
    " texts, 1 + log tf, smoothed idf, L2 rows), its vocabulary fitted inside each outer fold on"
    " that fold's training texts only. Frozen embeddings place a passage by topic; words such as"
    " 'ROK', 'hegemony' or 'alliance' carry who presses whom. On the same 3 fold splits English"
    " macro-F1 went from 0.671/0.723/0.684 to 0.717/0.734/0.702 (higher on every split),"
    " all-language macro-F1 from 0.695 to 0.706 on average, NLL from 0.884 to 0.868; ECE moved"
    " 0.122/0.114/0.093 to 0.092/0.106/0.124, so the calibration target is met on the build's split"
    " but not on every split. Chosen over 9 other variants on those splits (TF-IDF scaled 0.5 or 2,"
    " word 1-2-grams; MiniLM layer-3, layers 4+5, max-pooled or CLS vectors added; MiniLM or USE"
    " blocks re-weighted; the English head also learning Korean and Chinese passages through USE;"
    " bagged inner-fold heads; a wider C grid), none better on English macro-F1 on every split."
    " Picking among them on the dev set makes the figures somewhat optimistic.",
]


def rounded(value: Any, digits: int = 6) -> Any:
    """Round every float inside nested dicts/lists so the card is stable and readable."""
    if isinstance(value, float | np.floating):
        return round(float(value), digits)
    if isinstance(value, dict):
        return {str(k): rounded(v, digits) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [rounded(v, digits) for v in value]
    if isinstance(value, np.integer):
        return int(value)
    return value


def _relative(path: Path, root: Path) -> str:
    """Path relative to the project root (the parent of seeds/)."""
    return os.path.relpath(path.resolve(), root.resolve()).replace(os.sep, "/")


def training_data(data: Dataset, seeds_dir: Path, dev_path: Path | None) -> dict[str, Any]:
    """Hashes of the input files, example counts, and short hashes of every training text."""
    files = {
        role: {"path": _relative(p, seeds_dir.parent), "sha256": sha256_file(p), "bytes": p.stat().st_size}
        for role, p in data_files(seeds_dir, dev_path).items()
    }
    counts = Counter(f"{e.source}/{e.lang}/{e.label}" for e in data.examples)
    return {
        "files": files,
        "examples": dict(sorted(counts.items())),
        "n_examples": len(data.examples),
        "text_hashes": sorted({text_hash(e.text) for e in data.examples}),
    }


def oof_metrics(data: Dataset, oof: dict[str, Any] | None) -> dict[str, Any] | None:
    """Out-of-fold metrics (calibrated and untempered), per-fold choices and per-passage results."""
    if oof is None:
        return None
    examples = [data.examples[i] for i in oof["index"]]
    gold = [e.label for e in examples]
    langs = [e.language for e in examples]
    predictions = [
        {
            "id": e.ident,
            "lang": e.language,
            "fold": int(f),
            "gold": e.label,
            "pred": LABELS[int(np.argmax(p))],
            "probs": dict(zip(LABELS, p.tolist(), strict=True)),
        }
        for e, p, f in zip(examples, oof["calibrated"], oof["fold"], strict=True)
    ]
    return {
        "grouping": "url",
        "folds": int(oof["fold"].max()) + 1,
        "calibrated": evaluate(oof["calibrated"], gold, langs),
        "uncalibrated": evaluate(oof["raw"], gold, langs),
        "fold_choices": oof["choices"],
        "predictions": predictions,
    }


def seed_article(model: StanceClassifier, without_seed: StanceClassifier, seeds_dir: Path) -> dict[str, Any]:
    """How the seed article scores as one article, and each labelled paragraph vs its label."""
    text = (seeds_dir / SEED_ARTICLE).read_text(encoding="utf-8")
    passages = segment(text)
    labels = load_seed_labels(seeds_dir)
    texts = sorted({p.text for p in passages} | {s.text for s in labels})
    languages = [detect_language(t) for t in texts]
    routed = model.routed_features(texts, languages)
    result: dict[str, Any] = {}
    by_text: dict[str, dict[str, Prediction]] = {t: {} for t in texts}
    for name, clf in (("in_sample", model), ("without_seed", without_seed)):
        predictions = clf.predictions_from(clf.probabilities_from(routed, len(texts)), languages)
        for t, pred in zip(texts, predictions, strict=True):
            by_text[t][name] = pred
        scored = [by_text[p.text][name] for p in passages]
        article = aggregate(scored, [p.ordinal for p in passages])
        result[name] = {
            "article": article.as_dict(),
            "passages": [
                {"ordinal": p.ordinal, "start": p.start, "end": p.end, "label": q.label, "score": q.score}
                for p, q in zip(passages, scored, strict=True)
            ],
        }
    result["paragraphs"] = [
        {
            "line": s.line,
            "gold": s.label,
            "pred": by_text[s.text]["in_sample"].label,
            "score": by_text[s.text]["in_sample"].score,
            "pred_without_seed": by_text[s.text]["without_seed"].label,
            "score_without_seed": by_text[s.text]["without_seed"].score,
        }
        for s in labels
    ]
    hedges = [p for p in result["paragraphs"] if p["gold"] == "hedge"]
    result["hedge_recall"] = {
        "in_sample": sum(p["pred"] == "hedge" for p in hedges) / max(1, len(hedges)),
        "without_seed": sum(p["pred_without_seed"] == "hedge" for p in hedges) / max(1, len(hedges)),
        "n": len(hedges),
    }
    return result


def target_check(metrics: dict[str, Any] | None, seed: dict[str, Any]) -> dict[str, Any]:
    """Each target of the issue with the measured value and whether it is met."""
    score = seed["in_sample"]["article"]["score"]
    checks: dict[str, Any] = {
        "seed_score": {"value": score, "target": ">= 0.30", "met": score is not None and score >= 0.30},
    }
    if metrics is not None:
        cal = metrics["calibrated"]
        en = cal["per_language"].get("en", {}).get("macro_f1")
        checks["en_macro_f1"] = {"value": en, "target": ">= 0.70", "met": en is not None and en >= 0.70}
        overall = cal["overall"]
        checks["all_macro_f1"] = {
            "value": overall["macro_f1"],
            "target": ">= 0.65",
            "met": overall["macro_f1"] >= 0.65,
        }
        checks["ece"] = {"value": overall["ece"], "target": "<= 0.10", "met": overall["ece"] <= 0.10}
    return checks


def software() -> dict[str, str]:
    """Versions of the libraries that shape the numbers."""
    names = ("numpy", "scikit-learn", "torch", "transformers", "tokenizers")
    return {"python": platform.python_version(), **{n: package_version(n) for n in names}}


def build_card(
    *,
    version: str,
    data: Dataset,
    oof: dict[str, Any] | None,
    head_infos: dict[str, Any],
    classifier: StanceClassifier,
    without_seed: StanceClassifier,
    seeds_dir: Path,
    dev_path: Path | None,
    config: dict[str, Any],
) -> dict[str, Any]:
    """Assemble the JSON card of a version."""
    encoders = sorted({n for spec in HEADS for n in spec.encoders})
    metrics = oof_metrics(data, oof)
    seed = seed_article(classifier, without_seed, seeds_dir)
    heads = {
        spec.name: {
            "encoders": list(spec.encoders),
            "serves": "English passages" if spec.english else "every language but English",
            "n_train": len(data.rows[spec.name]),
            **head_infos[spec.name],
        }
        for spec in HEADS
    }
    card = {
        "version": version,
        "labels": list(LABELS),
        "score": "P(washington) - P(beijing)",
        "heads": heads,
        "encoders": {n: get_encoder(n, config["threads"]).info() for n in encoders},
        "training_data": training_data(data, seeds_dir, dev_path),
        "metrics": {"out_of_fold": metrics, "targets": target_check(metrics, seed)},
        "seed_article": seed,
        "article_relevance_rule": relevance_rule(classifier, seeds_dir, seed),
        "build": {"config": config, "software": software()},
        "notes": NOTES,
    }
    return dict(rounded(card))


def render_markdown(card: dict[str, Any]) -> str:
    """A short human-readable card."""
    from models.card_md import render

    return render(card)
