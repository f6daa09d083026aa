"""The dev set holds no near-duplicate passages, and the build refuses a file that does."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flows.settings import SEEDS_DIR
from models.duplicates import THRESHOLD, near_duplicates, shingles
from models.evaluate import load_labelled
from models.training import TrainingDataError, default_dev_path, dev_examples


def test_committed_dev_set_has_no_near_duplicates() -> None:
    dev = default_dev_path(SEEDS_DIR)
    assert dev is not None
    passages = load_labelled(dev)
    found = near_duplicates([(p.id, p.group, p.text) for p in passages])
    assert not found, f"near-duplicate dev passages at character 3-gram Jaccard >= {THRESHOLD}: {found}"


def test_guard_separates_a_restatement_from_a_different_report() -> None:
    restated = [
        ("A", "https://a.example/1", "Fukuyama argued that Korea cannot sit between America and China."),
        ("B", "https://b.example/2", "Fukuyama has argued that Korea cannot sit between America and China."),
        ("C", "https://c.example/3", "North Korea fired two cruise missiles into the Yellow Sea on Sunday."),
    ]
    found = near_duplicates(restated)
    assert [(d.first, d.second, d.same_group) for d in found] == [("A", "B", False)]
    assert shingles("  Seoul  AND\nBeijing ") == shingles("seoul and beijing")


def test_build_refuses_a_dev_file_with_near_duplicates(tmp_path: Path) -> None:
    text = "China warned that Seoul would pay a price for joining the US missile shield."
    rows = [
        {"id": "X1", "label": "beijing", "lang": "en", "url": "https://a.example/1", "text": text},
        {"id": "X2", "label": "beijing", "lang": "en", "url": "https://b.example/2", "text": text[:-1] + "!"},
    ]
    path = tmp_path / "dev.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    with pytest.raises(TrainingDataError, match=r"X1/X2 .*fold leak"):
        dev_examples(path)
