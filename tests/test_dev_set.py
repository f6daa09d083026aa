"""The dev set's README states what passages.jsonl holds: counts by language and label, and the
issue's minimum sizes (at least 500 passages, 250 English, 125 Korean and 125 Chinese)."""

from __future__ import annotations

import json
import re
from collections import Counter

from flows.settings import SEEDS_DIR
from models.labels import LABELS

DEV_DIR = SEEDS_DIR / "stance-dev"


def file_counts() -> Counter[tuple[str, str]]:
    """(language, label) counts of passages.jsonl, with 'all' totals."""
    counts: Counter[tuple[str, str]] = Counter()
    for line in (DEV_DIR / "passages.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        for lang in (row["lang"], "all"):
            counts[(lang, row["label"])] += 1
            counts[(lang, "all")] += 1
    return counts


def readme_counts() -> Counter[tuple[str, str]]:
    """The README's language × label table, as counts."""
    text = (DEV_DIR / "README.md").read_text(encoding="utf-8")
    header = "| lang | " + " | ".join(LABELS) + " | all |"
    assert header in text, f"README lost its count table header {header!r}"
    counts: Counter[tuple[str, str]] = Counter()
    for lang, cells in re.findall(r"^\| (en|ko|zh|all) \|((?: \d+ \|)+)$", text, flags=re.M):
        for label, cell in zip((*LABELS, "all"), cells.strip(" |").split(" | "), strict=True):
            counts[(lang, label)] = int(cell)
    return counts


def test_readme_table_matches_the_file() -> None:
    assert readme_counts() == file_counts()


def test_readme_total_matches_the_file() -> None:
    text = (DEV_DIR / "README.md").read_text(encoding="utf-8")
    match = re.search(r"`passages.jsonl`: (\d+) real passages", text)
    assert match is not None and int(match.group(1)) == file_counts()[("all", "all")]


def test_dev_set_meets_the_sizes_asked_for() -> None:
    counts = file_counts()
    assert counts[("all", "all")] >= 500
    assert counts[("en", "all")] >= 250
    assert counts[("ko", "all")] >= 125 and counts[("zh", "all")] >= 125
