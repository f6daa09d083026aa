"""docs/model.md's stance-model figures are the committed card's: same version, same out-of-fold
macro-F1 per language, same ECE, same Washington↔Beijing share, same held-out seed score."""

from __future__ import annotations

import re
from typing import Any

from flows.settings import PROJECT_ROOT
from models.registry import read_card, resolve_version

README = (PROJECT_ROOT / "docs" / "model.md").read_text(encoding="utf-8")  # the model page
ROWS = {
    "all languages": "all_macro_f1",
    "English": "en_macro_f1",
    "Korean": "ko_macro_f1",
    "Chinese": "zh_macro_f1",
}


def latest_card() -> dict[str, Any]:
    """The card of the version LATEST names."""
    return read_card(resolve_version(None))


def test_readme_figures_name_the_latest_version() -> None:
    match = re.search(r"Figures of the committed version `(stance-[0-9a-f]+)`", README)
    assert match is not None and match.group(1) == latest_card()["version"]


def test_readme_macro_f1_table_matches_the_card() -> None:
    targets = latest_card()["metrics"]["targets"]
    for row, key in ROWS.items():
        match = re.search(rf"^\| {row} \| \d+ \| (\d\.\d{{3}}) \| [^|]*\b(met|missed)\b", README, flags=re.M)
        assert match is not None, f"README lost its {row!r} row"
        assert float(match.group(1)) == round(targets[key]["value"], 3), row
        assert (match.group(2) == "met") == targets[key]["met"], row


def test_readme_calibration_confusions_and_seed_match_the_card() -> None:
    targets = latest_card()["metrics"]["targets"]
    ece = re.search(r"^\| all languages \|[^\n]*\| (\d\.\d{3}) \(≤ 0\.05", README, flags=re.M)
    assert ece is not None and float(ece.group(1)) == round(targets["ece_15_bins"]["value"], 3)
    share = re.search(r"Washington↔Beijing confusions: \d+ of \d+ polar passages \((\d+\.\d)%", README)
    assert share is not None
    assert float(share.group(1)) == round(100 * targets["washington_beijing_share"]["value"], 1)
    seed = re.search(r"Seed article with its own paragraphs held out of training: (-?\d\.\d{3})", README)
    assert seed is not None and float(seed.group(1)) == round(targets["seed_score_held_out"]["value"], 3)
    off = re.search(r"Off-topic benchmark: (\d+) of (\d+) pages judged relevant", README)
    assert off is not None and int(off.group(1)) == targets["off_topic_relevant"]["value"]


def test_readme_learning_curve_matches_the_card() -> None:
    """The README's learning-curve rows are the card's (share, all, en, ko, zh)."""
    for point in latest_card()["learning_curve"]:
        share = f"{100 * point['fraction']:.0f}%"
        row = re.search(
            rf"^\| {share} \| \d+ \| (\d\.\d{{3}}) \| (\d\.\d{{3}}) \| (\d\.\d{{3}}) \| (\d\.\d{{3}}) \|",
            README,
            flags=re.M,
        )
        assert row is not None, f"README lost the learning curve's {share} row"
        assert [float(x) for x in row.groups()] == [round(point[k], 3) for k in ("all", "en", "ko", "zh")], (
            share
        )
