"""The card's history, kept as data: every variant tried (``history/variants.jsonl``) and the notes
every card carries (``history/notes.md``, one bullet per note).

Variant rows were measured with the build's own out-of-fold procedure (5 outer folds grouped by
URL, seed 0; every choice inside the folds). ``dev`` names the dev set a row was measured on (516,
496, 512 and 1329 passages): splits differ between dev sets, so compare rows only within one.
A build appends its own figures as the last row ("this build").
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

HISTORY_DIR = Path(__file__).resolve().parent / "history"
VARIANTS_FILE = HISTORY_DIR / "variants.jsonl"
NOTES_FILE = HISTORY_DIR / "notes.md"
VARIANT_FIELDS = ("dev", "variant", "en", "ko", "zh", "all", "ece", "wb", "what")


def variants(path: Path = VARIANTS_FILE) -> list[dict[str, Any]]:
    """Every variant row, in the order tried; each has ``VARIANT_FIELDS``."""
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        row = json.loads(line)
        missing = [f for f in VARIANT_FIELDS if f not in row]
        if missing:
            raise ValueError(f"{path} line {number}: missing {', '.join(missing)}")
        rows.append(row)
    return rows


def notes(path: Path = NOTES_FILE) -> list[str]:
    """The notes: the markdown file's top-level bullets, each joined into one line."""
    out: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("- "):
            out.append(line[2:].strip())
        elif line.startswith("  ") and out and line.strip():
            out[-1] += " " + line.strip()
    return out
