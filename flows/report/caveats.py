"""The methodology and caveats box in plain language, readable model metrics, and the appendix
of operations (coverage funnel, failures, silent sources) with only rows that are not all zeros."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flows.report.coverage import card_figures, coverage_sections
from flows.report.data import ReportData
from flows.report.evidence import DEFAULT_CONFIDENCE, card_threshold
from flows.report.facts import Facts
from flows.report.render import Bullets, Note, Section, Table, not_enough
from flows.report.sections import source_volume_section
from flows.report.stats import BAND_MIN, MIN_ARTICLES, Bootstrap

LANGUAGE_NAMES = {"overall": "all languages", "en": "English", "ko": "Korean", "zh": "Chinese"}
METRIC_NAMES = {"temperature": "Temperature", "ece": "Calibration error (ECE)", "macro_f1": "Macro-F1"}
CONTEXT_SKIP = {"metrics", "calibration", "out_of_fold", "calibrated", "per_language"}


def readable(path: str) -> str:
    """A dotted card path as words: 'heads.en.temperature' → 'Temperature (heads, English)'."""
    *context, last = path.split(".")
    name = METRIC_NAMES.get(last.lower(), last.replace("_", " ").capitalize())
    words = [LANGUAGE_NAMES.get(c, c.replace("_", " ")) for c in context if c not in CONTEXT_SKIP]
    return f"{name} ({', '.join(words)})" if words else name


def _number(value: Any) -> float | None:
    """A card value as a float, if it is a number."""
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def model_quality(card: dict[str, Any]) -> list[tuple[str, str]]:
    """(readable name, value) of the card's out-of-fold quality figures per language."""
    oof = card.get("metrics", {}).get("out_of_fold", {}).get("calibrated", {})
    if not isinstance(oof, dict):
        return []
    groups = [("overall", oof.get("overall", {}))]
    groups += sorted((lang, m) for lang, m in (oof.get("per_language") or {}).items())
    rows = []
    for lang, m in groups:
        if not isinstance(m, dict):
            continue
        name = LANGUAGE_NAMES.get(lang, lang)
        f1, ece, n = _number(m.get("macro_f1")), _number(m.get("ece")), _number(m.get("n"))
        if f1 is not None:
            rows.append((f"Macro-F1, {name} (out of fold, n={int(n or 0)})", f"{f1:.2f}"))
        if ece is not None:
            rows.append((f"Calibration error (ECE), {name}", f"{ece:.3f}"))
    return rows


def quality_sentence(card: dict[str, Any]) -> str:
    """One sentence on measured model quality, or that the card states none."""
    rows = dict(model_quality(card))
    f1 = next((v for k, v in rows.items() if k.startswith("Macro-F1, all languages")), None)
    if f1 is None:
        return "The model card states no measured quality figures."
    return (
        f"On held-out labelled passages it gets a macro-F1 of {f1} across all languages (1.00 would be "
        "perfect; its commonest error is confusing the Washington and Beijing sides)."
    )


def method_box(data: ReportData, facts: Facts, boot: Bootstrap) -> Section:
    """Methodology and caveats, in plain language."""
    model = data.model.model_version if data.model else "none"
    threshold = card_threshold(facts.card)
    items = [
        "What the index means: every passage of an article is read by "
        "a classifier that estimates how likely it "
        "argues Seoul is (or should be) aligning with Washington, "
        "tilting to Beijing, hedging, or is not about "
        "this at all. An article's score is P(Washington) − P(Beijing) averaged over its relevant passages, "
        "from −1 (fully toward Beijing) to +1 (fully toward Washington); "
        "the index is the mean over relevant articles.",
        f"Model version {model}. {quality_sentence(facts.card)}",
        "Bands are 95% bootstrap intervals over articles "
        f"({boot.resamples} resamples): they show sampling noise "
        f"only, not model error. Fewer than {BAND_MIN} relevant articles: no band (hollow point); fewer than "
        f"{MIN_ARTICLES}: no point. 'Beyond sampling noise' means the interval of a change excludes zero; "
        "a level 'leans' toward a side only when its own interval excludes zero. The week in progress is "
        "provisional: hollow and labelled 'so far'.",
        "Evidence passages are quoted only where the model is confident (top probability at least "
        f"{threshold if threshold is not None else DEFAULT_CONFIDENCE:.2f}) and only from relevant articles.",
        "Topic tags come from a keyword dictionary, not from the model: an article that mentions a topic in "
        "passing is tagged too.",
        f"Weeks are ISO weeks in {data.timezone}; near-duplicate and syndicated copies count once.",
    ]
    if facts.synthetic_dates:
        items.insert(
            0,
            "DEMO DATA: the publication dates in this warehouse are synthetic (spread by `axiswatch "
            "demo` over the last 12 weeks), so week-to-week changes here say nothing about the world.",
        )
    return Section("Methodology and caveats", [Bullets(tuple(items))])


def _nonzero_funnel(data: ReportData) -> ReportData:
    """The data with funnel rows that are all zeros dropped."""
    from dataclasses import replace

    return replace(data, funnel=tuple(f for f in data.funnel if any(f[2:])))


def appendix_sections(data: ReportData, facts: Facts, chart_dir: Path) -> list[Section]:
    """Operations (articles per source, coverage, failures, funnel without all-zero rows) and
    readable model metrics."""
    ops = [source_volume_section(data, chart_dir), *coverage_sections(_nonzero_funnel(data))]
    head = Section("Appendix: operations and model", level=2)
    for section in ops:
        section.level = 3
    quality = Section("Model quality", level=3)
    if data.model is None:
        quality.blocks.append(not_enough("no model version is registered and no article is scored yet."))
        return [head, *ops, quality]
    rows = model_quality(facts.card) or [(readable(k), v) for k, v in card_figures(facts.card)]
    if data.model:
        rows = [
            ("Model version", data.model.model_version),
            ("Articles scored by it", f"{data.model.scored_articles} of {data.model.articles}"),
            *rows,
        ]
    quality.blocks.append(Table(("measure", "value"), tuple(rows)) if rows else Note("No model card."))
    return [head, *ops, quality]
