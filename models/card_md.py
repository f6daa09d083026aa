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
            + (
                f" {bench['relevant_with_share_rule']} with the relevant share alone,"
                if "relevant_with_share_rule" in bench
                else ""
            )
            + f" {bench['relevant_with_rule']} with the rule."
        )
    korea = rule.get("dev_relevant_naming_korea")
    if korea:
        shares = ", ".join(
            f"{lang} {row['naming_korea']}/{row['relevant']} ({row['share']:.1%})"
            for lang, row in korea.items()
        )
        rows.append(f"- Relevant dev passages that name Korea themselves: {shares}.")
    rows.append(f"- Dev set: {rule['dev_set']}")
    return rows


def _quality_sections(card: dict[str, Any]) -> list[str]:
    """Abstention, probes, voice accuracy and the variant table."""
    lines: list[str] = []
    abst = card.get("abstention")
    if abst:
        lines += ["", "## Abstention", "", f"Threshold {abst['threshold']}: {abst['rule']}."]
        if abst.get("n"):
            lines.append(
                f"Out of fold it ignores {abst['ignored']} of {abst['n']} dev passages (accuracy of those"
                f" kept {_fmt(abst['accuracy_kept'])}, of those ignored {_fmt(abst['accuracy_ignored'])})."
            )
    probes = card.get("probes")
    if probes:
        kinds = ", ".join(f"{k} {_fmt(v)}" for k, v in probes["by_kind"].items())
        langs = ", ".join(f"{k} {_fmt(v)}" for k, v in probes["by_language"].items())
        lines += [
            "",
            "## Probes",
            "",
            f"{probes['n']} probes (seeds/probes.jsonl): pass rate"
            f" {_fmt(probes['pass_rate'])}; by kind: {kinds}; by language: {langs};"
            f" pairs both passed: {_fmt(probes['pairs']['pass_rate'])} of {probes['pairs']['n']}.",
        ]
    voice = card.get("voice")
    if voice:
        per = ", ".join(f"{k} {_fmt(v['accuracy'])} (n={v['n']})" for k, v in voice["per_language"].items())
        lines += [
            "",
            "## Voice",
            "",
            f"Voice detector vs the dev set's `voice`: accuracy"
            f" {_fmt(voice['accuracy'])} over {voice['n']} passages; {per}.",
        ]
    prior = card.get("outlet_prior")
    if prior:
        f1 = ", ".join(f"{k} {_fmt(v)}" for k, v in prior["macro_f1"].items())
        lines += [
            "",
            "## Outlet prior (optional, off: not used by this model)",
            "",
            "With the outlet's kind"
            f" ({', '.join(f'{k} {n}' for k, n in prior['kinds'].items())}) as a label prior estimated on"
            f" the other folds, out-of-fold macro-F1 would be {f1}; ECE {_fmt(prior['ece'])}.",
        ]
    if card.get("learning_curve"):
        title = "## Learning curve (out of fold, same folds)"
        lines += ["", title, "", *learning_curve_table(card["learning_curve"])]
    if card.get("variants"):
        title = "## Variants tried (out of fold; rows on one dev set share its splits)"
        lines += ["", title, "", *_variant_table(card["variants"])]
    return lines


def learning_curve_table(points: list[dict[str, Any]]) -> list[str]:
    """Macro-F1 when each fold trains on 25, 50, 75 and 100% of its dev rows (stratified)."""
    out = [
        "| share of the dev set | dev rows in training (mean per fold) | all | en | ko | zh | ECE |",
        "|---|---|---|---|---|---|---|",
    ]
    for p in points:
        out.append(
            f"| {100 * p['fraction']:.0f}% | {p['dev_rows_per_fold']:.0f} | {_fmt(p['all'])} |"
            f" {_fmt(p.get('en'))} | {_fmt(p.get('ko'))} | {_fmt(p.get('zh'))} | {_fmt(p['ece'])} |"
        )
    return [
        *out,
        "",
        "Each fold's training side keeps that share of its dev rows (per language and label, the smaller"
        " shares inside the larger); seed paragraphs and poles are always in; the test parts are the same.",
    ]


def _variant_table(rows: list[dict[str, Any]]) -> list[str]:
    """The variant table."""
    out = [
        "| dev set | variant | en F1 | ko F1 | zh F1 | all F1 | ECE | W↔B | what |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        out.append(
            f"| {r.get('dev', '')} | {r['variant']} | {_fmt(r['en'])} | {_fmt(r['ko'])} | {_fmt(r['zh'])} |"
            f" {_fmt(r['all'])} | {_fmt(r['ece'])} | {_fmt(r['wb'])} | {r['what']} |"
        )
    return out


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
            + "".join(f", T[{k}]={v:.3f}" for k, v in head.get("temperatures", {}).items())
            + (
                f", {head.get('lexicon', 'word')} lexicon: {head['lexicon_terms']} terms"
                if head.get("lexicon_terms")
                else ""
            )
            + (f", extras: {'+'.join(head['extras'])}" if head.get("extras") else "")
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
        wb = oof["washington_beijing"]
        lines += [
            "",
            f"Washington↔Beijing confusions: {wb['swapped']} of {wb['polar']} polar passages"
            f" ({_fmt(wb['share'])}). ECE uses {oof['ece_bins']} equal-width bins.",
        ]
        if card.get("reliability_diagram"):
            lines += ["", f"![reliability diagram]({card['reliability_diagram']})"]
        lines += ["", "Before temperature scaling:", "", *_metrics_table(oof["uncalibrated"])]
    else:
        lines += ["", "No dev set was available: no out-of-fold evaluation."]
    lines += _quality_sections(card)
    lines += [
        "",
        "## Seed article",
        "",
        "The target counts the `without_seed` row (the seed's paragraphs"
        " held out of training); `in_sample` is shown beside it.",
        "",
        *_seed_section(card["seed_article"]),
    ]
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
