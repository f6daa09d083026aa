"""Aligned text tables for the terminal that never cut a value: long cells wrap onto more lines.

Widths are display columns: East Asian wide and fullwidth characters count as two, combining
marks as zero (``unicodedata``), so Korean and Chinese text lines up.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

DEFAULT_MAX_WIDTH = 60


def char_width(char: str) -> int:
    """Display columns of one character."""
    if unicodedata.combining(char):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def display_width(text: str) -> int:
    """Display columns of a string."""
    return sum(char_width(c) for c in text)


def _hard_split(word: str, width: int) -> list[str]:
    """Split one over-long word into pieces of at most ``width`` columns."""
    pieces, current, used = [], "", 0
    for char in word:
        w = char_width(char)
        if current and used + w > width:
            pieces.append(current)
            current, used = "", 0
        current, used = current + char, used + w
    return [*pieces, current]


def wrap(text: str, width: int) -> list[str]:
    """Lines of ``text`` of at most ``width`` columns, broken at spaces where possible; every
    character is kept (line breaks in the value start new lines). ``width`` 0: no wrapping."""
    if width <= 0:
        return text.split("\n")
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for word in paragraph.split(" "):
            candidate = f"{line} {word}" if line else word
            if display_width(candidate) <= width:
                line = candidate
                continue
            if line:
                lines.append(line)
            *full, line = _hard_split(word, width)
            lines.extend(full)
        lines.append(line)
    return lines


def pad(text: str, width: int) -> str:
    """``text`` padded with spaces to ``width`` display columns."""
    return text + " " * (width - display_width(text))


def table(header: Sequence[str], rows: Sequence[Sequence[str]], max_width: int = DEFAULT_MAX_WIDTH) -> str:
    """An aligned table; cells wider than ``max_width`` columns wrap (0: never wrap)."""
    cells = [[wrap(c, max_width) for c in row] for row in [list(header), *rows]]
    widths = [max(display_width(line) for row in cells for line in row[i]) for i in range(len(header))]
    out = []
    for n, row in enumerate(cells):
        for k in range(max(len(c) for c in row)):
            parts = [pad(c[k] if k < len(c) else "", w) for c, w in zip(row, widths, strict=True)]
            out.append("  ".join(parts).rstrip())
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def wrapped(rows: Sequence[Sequence[str]], max_width: int) -> bool:
    """True when some cell is wider than ``max_width`` or spans lines (so the table wraps it)."""
    return any("\n" in c or (max_width > 0 and display_width(c) > max_width) for row in rows for c in row)
