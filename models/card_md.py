"""Markdown rendering of a model card (the JSON card is the source of truth)."""

from __future__ import annotations

from typing import Any

from models.labels import LABELS


def _fmt(value: Any) -> str:
    """Format a number for a table cell."""
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:+.3f}" if value < 0 else f"{value:.3f}"
    return str(value)


def _metrics_table(metrics: dict[str, Any]) -> list[str]:
    """Rows of overall and per-language figures."""
    rows = ["| group | n | macro-F1 | accuracy | ECE | NLL |", "|---|---|---|---|---|---|"]
    groups = [("all", metrics["overall"]), *sorted(metrics["per_language"].items())]
    for name, m in groups:
        rows.append(
            f"| {name} | {m['n']} | {_fmt(m['macro_f1'])} | {_fmt(m['accuracy'])} |"
            f" {_fmt(m['ece'])} | {_fmt(m['nll'])} |"
        )
    return rows


def _class_table(metrics: dict[str, Any]) -> list[str]:
    """Per-class precision/recall/F1 and the confusion matrix."""
    rows = ["| label | precision | recall | F1 | n |", "|---|---|---|---|---|"]
    for label, s in metrics["overall"]["per_class"].items():
        rows.append(
            f"| {label} | {_fmt(s['precision'])} | {_fmt(s['recall'])} | {_fmt(s['f1'])} |"
            f" {int(s['support'])} |"
        )
    rows += ["", "Confusion (rows gold, columns predicted):", ""]
    rows += ["| gold \\ pred | " + " | ".join(LABELS) + " |", "|---" * (len(LABELS) + 1) + "|"]
    for label, line in zip(LABELS, metrics["overall"]["confusion"]["matrix"], strict=True):
        rows.append(f"| {label} | " + " | ".join(str(v) for v in line) + " |")
    return rows


def _seed_section(seed: dict[str, Any]) -> list[str]:
    """The seed article's article-level score and paragraph agreement."""
    rows = [
        "| model | score | spread | label | relevant share | evidence (ordinals) |",
        "|---|---|---|---|---|---|",
    ]
    for name in ("in_sample", "without_seed"):
        art = seed[name]["article"]
        evidence = ", ".join(str(e["ordinal"]) for e in art["evidence"])
        rows.append(
            f"| {name} | {_fmt(art['score'])} | {_fmt(art['spread'])} | {art['label']} |"
            f" {_fmt(art['relevant_share'])} | {evidence} |"
        )
    paragraphs = seed["paragraphs"]
    agree = sum(p["gold"] == p["pred"] for p in paragraphs)
    agree_out = sum(p["gold"] == p["pred_without_seed"] for p in paragraphs)
    recall = seed["hedge_recall"]
    rows += [
        "",
        f"Paragraph labels matched: {agree}/{len(paragraphs)} in sample, {agree_out}/{len(paragraphs)}"
        f" without the seed in training. Hedge paragraphs recognised: {_fmt(recall['in_sample'])}"
        f" in sample, {_fmt(recall['without_seed'])} without the seed (n={recall['n']}).",
    ]
    return rows


def _relevance_section(rule: dict[str, Any]) -> list[str]:
    """The article relevance rule and its measured effect."""
    seed = rule["seed_article"]
    rows = [
        f"Rule: an article gets a score only if {rule['rule']}.",
        "",
        f"- Seed article: relevant share {_fmt(seed['relevant_share'])}, score {_fmt(seed['score'])}"
        f" ({'relevant' if seed['relevant'] else 'NOT relevant'}).",
    ]
    bench = rule["off_topic_benchmark"]
    if bench is not None:
        rows.append(
            f"- Off-topic benchmark ({bench['pages']} pages, {bench['passages']} passages, none about the"
            f" axis): judged relevant {bench['relevant_any_passage']} with any relevant passage,"
            f" {bench['relevant_with_rule']} with the rule."
        )
    rows.append(f"- Dev set: {rule['dev_set']}")
    return rows


def render(card: dict[str, Any]) -> str:
    """Render the card as markdown."""
    lines = [f"# Stance model {card['version']}", ""]
    lines.append(f"Labels: {', '.join(card['labels'])}. Score: {card['score']}.")
    lines.append("")
    lines.append("## Heads")
    for name, head in card["heads"].items():
        lines.append(
            f"- `{name}` ({'+'.join(head['encoders'])}; {head['serves']}): n={head['n_train']},"
            f" C={head['C']}, temperature={head['temperature']:.3f}"
            + (f", word features: {head['lexicon_terms']} terms" if head.get("lexicon_terms") else "")
        )
    lines += ["", "## Encoders"]
    for name, info in card["encoders"].items():
        lines.append(f"- `{name}`: {info['package']} {info['package_version']}, dim {info['dim']}")
    lines += ["", "## Targets", ""]
    for name, check in card["metrics"]["targets"].items():
        verdict = "met" if check["met"] else "MISSED"
        lines.append(f"- {name}: {_fmt(check['value'])} (target {check['target']}) — {verdict}")
    oof = card["metrics"]["out_of_fold"]
    if oof is not None:
        lines += ["", f"## Out of fold (calibrated; {oof['folds']} folds grouped by {oof['grouping']})", ""]
        lines += [*_metrics_table(oof["calibrated"]), "", *_class_table(oof["calibrated"])]
        lines += ["", "Before temperature scaling:", "", *_metrics_table(oof["uncalibrated"])]
    else:
        lines += ["", "No dev set was available: no out-of-fold evaluation."]
    lines += ["", "## Seed article", "", *_seed_section(card["seed_article"])]
    if "article_relevance_rule" in card:
        lines += ["", "## Article relevance", "", *_relevance_section(card["article_relevance_rule"])]
    if card.get("analyst_labels"):
        lines += ["", "## Analyst labels", "", *_analyst_section(card["analyst_labels"])]
    lines += ["", "## Notes", "", *[f"- {note}" for note in card["notes"]]]
    return "\n".join(lines) + "\n"


def _analyst_section(section: dict[str, Any]) -> list[str]:
    """What `--with-labels` added and the dev set's out-of-fold figures without and with it."""
    skipped = section["not_used_already_labelled"]
    rows = [
        f"{section['n_used']} analyst labels in training ({section['by_label']}); {skipped['n']} not used"
        f" because their text was already labelled ({skipped['agreeing_with_existing_label']} agreeing).",
        "",
        "| dev set, out of fold | n | macro-F1 | ECE |",
        "|---|---|---|---|",
    ]
    for name, figures in section["dev_out_of_fold"].items():
        if figures:
            o = figures["overall"]
            rows.append(f"| {name.replace('_', ' ')} | {o['n']} | {_fmt(o['macro_f1'])} | {_fmt(o['ece'])} |")
    return [*rows, "", f"Change in macro-F1: {_fmt(section['delta_macro_f1'])}."]
