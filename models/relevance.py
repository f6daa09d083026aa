"""Measure the article relevance rule of ``models.aggregate`` for a model card.

Off-topic benchmark pages (the extraction benchmark's article bodies: gaming, food, US-China
trade, Hong Kong, ... — none about Seoul between Washington and Beijing) are scored as whole
articles three times: with "any relevant passage" (``min_relevant_share=0``), with the relevant
share alone, and with the version's whole rule (the share and, if the version has it, the Korea
mention of ``models.mentions``). What the Korea mention could cost is measured on the dev set: the
share of its relevant passages that name Korea, per language.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from models.aggregate import KOREA_RULE, MIN_RELEVANT_SHARE, RELEVANCE_RULE, aggregate
from models.mentions import KOREA_MENTION, names_korea
from models.passages import segment
from models.training import dev_examples

if TYPE_CHECKING:
    from models.classifier import StanceClassifier

BENCHMARK = Path("demo") / "extraction-benchmark" / "ground-truth.json"
"""Off-topic pages, relative to the seeds directory."""
DEV_NOTE = (
    "The dev set holds single passages, so an item's relevant_share is 0 or 1 and the rule"
    " (a threshold at or below 1) changes no dev-set figure."
)


def benchmark_texts(path: Path) -> dict[str, str]:
    """Article bodies of the benchmark's ground truth, by page key (sorted; empty bodies skipped)."""
    truth: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    bodies = {key: str(page.get("articleBody") or "") for key, page in sorted(truth.items())}
    return {key: text for key, text in bodies.items() if text.strip()}


def off_topic_check(model: StanceClassifier, texts: dict[str, str]) -> dict[str, Any]:
    """How many off-topic articles get a score with the rule and without it, and their shares."""
    items = [(key, p) for key, text in texts.items() for p in segment(text)]
    predictions = model.predict_passages([p.text for _, p in items]) if items else []
    by_key: dict[str, list[Any]] = {key: [] for key in texts}
    for (key, _), pred in zip(items, predictions, strict=True):
        by_key[key].append(pred)
    texts_of: dict[str, list[str]] = {key: [] for key in texts}
    for key, passage in items:
        texts_of[key].append(passage.text)
    any_passage = {k: aggregate(v, min_relevant_share=0.0) for k, v in by_key.items()}
    share_only = {k: aggregate(v) for k, v in by_key.items()}
    ruled = {k: model.article_score(texts_of[k], v, min_confidence=0.0) for k, v in by_key.items()}
    return {
        "pages": len(texts),
        "passages": len(items),
        "relevant_any_passage": sum(a.score is not None for a in any_passage.values()),
        "relevant_with_share_rule": sum(a.score is not None for a in share_only.values()),
        "relevant_with_rule": sum(a.score is not None for a in ruled.values()),
        "relevant_with_rule_pages": sorted(k for k, a in ruled.items() if a.score is not None),
        "shares_of_pages_with_a_relevant_passage": sorted(
            round(a.relevant_share, 3) for a in any_passage.values() if a.score is not None
        ),
    }


def dev_korea_mentions(dev_path: Path) -> dict[str, Any]:
    """Per language: the dev set's relevant passages and the share of them that name Korea (the
    passage-level side of the Korea mention; an article needs only one of its relevant passages)."""
    out: dict[str, Any] = {}
    for example in dev_examples(dev_path):
        if example.label == "irrelevant":
            continue
        row = out.setdefault(example.language, {"relevant": 0, "naming_korea": 0})
        row["relevant"] += 1
        row["naming_korea"] += names_korea(example.text, example.language)
    for row in out.values():
        row["share"] = round(row["naming_korea"] / row["relevant"], 3)
    return dict(sorted(out.items()))


def relevance_rule(
    model: StanceClassifier, seeds_dir: Path, seed_article: dict[str, Any], dev_path: Path | None = None
) -> dict[str, Any]:
    """The card's ``article_relevance_rule`` field: the rule and what it does on measured data."""
    path = seeds_dir / BENCHMARK
    article = seed_article["in_sample"]["article"]
    korea = KOREA_MENTION in model.article_rules
    return {
        "rule": RELEVANCE_RULE + (KOREA_RULE if korea else ""),
        "min_relevant_share": MIN_RELEVANT_SHARE,
        "article_rules": list(model.article_rules),
        "dev_relevant_naming_korea": dev_korea_mentions(dev_path) if korea and dev_path else None,
        "off_topic_benchmark": off_topic_check(model, benchmark_texts(path)) if path.is_file() else None,
        "seed_article": {
            "relevant_share": article["relevant_share"],
            "score": article["score"],
            "relevant": article["score"] is not None,
        },
        "dev_set": DEV_NOTE,
    }
