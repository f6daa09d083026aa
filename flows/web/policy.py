"""The label policy the labelling queue shows: the "Label policy" table of the dev set's README."""

from __future__ import annotations

import functools
from pathlib import Path

FALLBACK = [
    ("washington", "that Seoul is aligning / should align with the US, away from Beijing"),
    ("hedge", "balancing, strategic ambiguity, a pragmatic middle way, not taking sides"),
    ("beijing", "that Seoul is tilting / should tilt toward China, or attacks Seoul's US alignment"),
    ("irrelevant", "not Seoul's position between the two powers"),
]


@functools.cache
def label_policy(readme: Path) -> list[tuple[str, str]]:
    """(label, meaning) rows of the README's "## Label policy" table, or a short fallback."""
    try:
        text = readme.read_text(encoding="utf-8")
    except OSError:
        return FALLBACK
    section = text.split("## Label policy", 1)[-1].split("\n## ", 1)[0] if "## Label policy" in text else ""
    found = []
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 2 and cells[0].strip("`") in {label for label, _ in FALLBACK}:
            found.append((cells[0].strip("`"), cells[1]))
    return found or FALLBACK
