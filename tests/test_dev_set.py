"""The dev set's README states what passages.jsonl holds: counts by language and label, and the
issue's minimum sizes (issue 21: at least 1,300 passages, 650 English, 325 Korean and 325 Chinese;
half the third wave argued in the author's voice, at least 15% hard negatives)."""

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


FIELDS = ["id", "label", "lang", "voice", "target", "url", "outlet", "year", "text", "why", "pass2"]
TARGETS = {
    "argument", "state-media", "kr-conservative", "kr-progressive", "negation", "conditional",
    "hard-negative", "none",
}  # fmt: skip


def third_wave(passage_id: str) -> bool:
    """ED*, EE*, and KO/ZH numbered above 100 (issue 21's rows)."""
    return passage_id[:2] in ("ED", "EE") or (passage_id[:2] in ("KO", "ZH") and int(passage_id[2:]) > 100)


def rows() -> list[dict[str, object]]:
    """Every passage of the dev set."""
    lines = (DEV_DIR / "passages.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def test_dev_set_meets_the_sizes_asked_for() -> None:
    counts = file_counts()
    assert counts[("all", "all")] >= 1300
    assert counts[("en", "all")] >= 650
    assert counts[("ko", "all")] >= 325 and counts[("zh", "all")] >= 325


def test_every_row_has_the_fields_and_values_of_the_policy() -> None:
    passages = rows()
    assert len({p["id"] for p in passages}) == len(passages)
    for p in passages:
        assert list(p) == FIELDS, p["id"]
        assert p["label"] in LABELS and p["lang"] in ("en", "ko", "zh") and p["target"] in TARGETS, p["id"]
        assert p["voice"] in ("author", "beijing", "seoul", "washington", "other"), p["id"]
        assert p["text"] and p["why"] and str(p["url"]).startswith("http"), p["id"]


def test_the_third_wave_is_aimed_at_the_argument() -> None:
    wave = [p for p in rows() if third_wave(str(p["id"]))]
    argued = [
        p for p in wave if p["target"] == "argument" and p["voice"] == "author" and p["label"] != "irrelevant"
    ]
    negatives = [p for p in wave if p["target"] == "hard-negative" and p["label"] == "irrelevant"]
    assert len(wave) == 817
    assert len(argued) >= len(wave) / 2 and len(negatives) >= 0.15 * len(wave)
