"""Article text → passages: paragraphs, short ones merged, long ones split at sentence ends.

Offsets are exact: for every passage ``p`` of ``text``, ``text[p.start:p.end] == p.text``.
A merged passage therefore keeps the line breaks between the paragraphs it joins.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from models.language import HAN_CLASS, KANA_CLASS

DEFAULT_MAX_TOKENS = 200
"""Estimated tokens per passage; below MiniLM's 256 word pieces, leaving a margin."""
DEFAULT_MIN_CHARS = 80
"""Paragraphs shorter than this (headings, datelines) are merged with what follows."""

_CJK_CHAR = KANA_CLASS + HAN_CLASS  # written without spaces: one token per character
_TOKEN_RE = re.compile(rf"[{_CJK_CHAR}]|[\uac00-\ud7af]{{1,2}}|[^\W\d_]+|\d+|[^\w\s]")
_ATOM_RE = re.compile(rf"[{_CJK_CHAR}]|[^\s{_CJK_CHAR}]+")
_LATIN_END = re.compile(r"[.!?…]+[\"'”’»)\]]*(?=\s)")
_CJK_END = re.compile(r"[。！？!?]+[」』”’）)\"']*|(?<=[\uac00-\ud7af])\.(?=\S)")
_ABBREVIATION = re.compile(
    r"(?:\b[A-Z]|\b(?:Mr|Mrs|Ms|Dr|Prof|St|Jr|Sr|vs|etc|e\.g|i\.e|No|Gen|Lt|Col|Rep|Sen|Gov"
    r"|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec|Inc|Co|Corp|Ltd))\.$"
)
_SENTENCE_FINAL = tuple(".!?。！？…\"'”’)」』")


@dataclass(frozen=True)
class Passage:
    """One passage of an article: its position, character offsets and text."""

    ordinal: int
    start: int
    end: int
    text: str


Span = tuple[int, int]


def estimate_tokens(text: str) -> int:
    """Rough encoder token count: CJK characters, words (long ones count more), digits, marks."""
    total = 2
    for match in _TOKEN_RE.finditer(text):
        piece = match.group()
        total += 1 + (len(piece) - 1) // 8 if piece.isascii() and piece.isalnum() else 1
    return total


def segment(
    text: str,
    *,
    max_tokens: int = DEFAULT_MAX_TOKENS,
    min_chars: int = DEFAULT_MIN_CHARS,
    count_tokens: Callable[[str], int] = estimate_tokens,
) -> list[Passage]:
    """Split article text into passages with exact offsets (see module docstring).

    ``count_tokens`` must be subadditive (two texts joined never need more tokens than apart,
    less its fixed overhead ``count_tokens("")``); joined sizes are computed from the parts.
    """
    if max_tokens < 8:
        raise ValueError(f"max_tokens must be at least 8, got {max_tokens}")
    sizer = _Sizer(text, count_tokens, max_tokens)
    units: list[Unit] = []
    for a, b in _paragraphs(text):
        unit = sizer.unit(a, b)
        units.extend(_split_long(sizer, unit) if unit[2] > max_tokens else [unit])
    merged = _merge_short(sizer, units, min_chars)
    return [Passage(i, a, b, text[a:b]) for i, (a, b, _) in enumerate(merged)]


Unit = tuple[int, int, int]
"""A span of the text and its token count: (start, end, tokens)."""


class _Sizer:
    """Token counts of spans of one text, and of joined spans, against a limit."""

    def __init__(self, text: str, count: Callable[[str], int], limit: int) -> None:
        """Remember the text, the counter, its fixed overhead and the limit."""
        self.text, self.count, self.limit = text, count, limit
        self.overhead = count("")

    def unit(self, a: int, b: int) -> Unit:
        """The span a..b with its token count."""
        return a, b, self.count(self.text[a:b])

    def join(self, left: Unit, right: Unit) -> Unit:
        """The span from ``left`` to ``right`` (an upper bound of its count, by subadditivity)."""
        return left[0], right[1], left[2] + right[2] - self.overhead

    def fits(self, unit: Unit) -> bool:
        """True if the unit is within the limit."""
        return unit[2] <= self.limit


def _paragraphs(text: str) -> list[Span]:
    """Non-blank lines (trimmed); a hard-wrapped line starting lower-case joins the line above."""
    spans: list[Span] = []
    joinable = False
    for match in re.finditer(r"[^\n]+", text):
        line = match.group()
        stripped = line.strip()
        if not stripped:
            joinable = False
            continue
        start = match.start() + len(line) - len(line.lstrip())
        end = match.start() + len(line.rstrip())
        if joinable and spans and stripped[0].islower():
            spans[-1] = (spans[-1][0], end)
        else:
            spans.append((start, end))
        joinable = not stripped.endswith(_SENTENCE_FINAL) and _is_previous_line(text, end)
    return spans


def _is_previous_line(text: str, end: int) -> bool:
    """True when the line ending at ``end`` is followed by exactly one newline (a wrap)."""
    rest = text[end : end + 3].replace("\r", "")
    return rest.startswith("\n") and not rest.startswith("\n\n")


def _sentence_ends(text: str, start: int, end: int) -> list[int]:
    """Offsets just after each sentence-final mark inside ``text[start:end]``."""
    cuts: set[int] = set()
    for match in _LATIN_END.finditer(text, start, end):
        if not _ABBREVIATION.search(text[max(start, match.start() - 6) : match.start() + 1]):
            cuts.add(match.end())
    for match in _CJK_END.finditer(text, start, end):
        cuts.add(match.end())
    return sorted(c for c in cuts if start < c < end)


def _trim(text: str, a: int, b: int) -> Span:
    """Shrink a span so it neither starts nor ends with whitespace."""
    while a < b and text[a].isspace():
        a += 1
    while b > a and text[b - 1].isspace():
        b -= 1
    return a, b


def _split_long(sizer: _Sizer, paragraph: Unit) -> list[Unit]:
    """Pack the sentences of one long paragraph into units within the limit."""
    text, (start, end, _) = sizer.text, paragraph
    bounds = [start, *_sentence_ends(text, start, end), end]
    pieces: list[Unit] = []
    for a, b in (_trim(text, a, b) for a, b in itertools.pairwise(bounds)):
        if a >= b:
            continue
        sentence = sizer.unit(a, b)
        pieces.extend(_split_words(sizer, a, b) if not sizer.fits(sentence) else [sentence])
    return _pack(sizer, pieces)


def _split_words(sizer: _Sizer, a: int, b: int) -> list[Unit]:
    """Split one over-long sentence at spaces (or between CJK characters)."""
    atoms: list[Unit] = []
    for match in _ATOM_RE.finditer(sizer.text, a, b):
        atoms.extend(_split_atom(sizer, match.start(), match.end()))
    return _pack(sizer, atoms)


def _split_atom(sizer: _Sizer, a: int, b: int) -> Iterator[Unit]:
    """Cut a single space-free run (e.g. a long URL) into character windows that fit."""
    atom = sizer.unit(a, b)
    if sizer.fits(atom):
        yield atom
        return
    width = max(1, (sizer.limit - sizer.overhead) * 2)
    while width > 1 and not sizer.fits(sizer.unit(a, a + width)):
        width //= 2
    for i in range(a, b, width):
        yield sizer.unit(i, min(b, i + width))


def _pack(sizer: _Sizer, pieces: list[Unit]) -> list[Unit]:
    """Greedily join consecutive units while the joined unit stays within the limit."""
    out: list[Unit] = []
    current: Unit | None = None
    for piece in pieces:
        if current is not None and sizer.fits(sizer.join(current, piece)):
            current = sizer.join(current, piece)
            continue
        if current is not None:
            out.append(current)
        current = piece
    if current is not None:
        out.append(current)
    return out


def _merge_short(sizer: _Sizer, units: list[Unit], min_chars: int) -> list[Unit]:
    """Merge runs of short units into the unit that follows (or, at the end, precedes) them."""
    out: list[Unit] = []
    pending: Unit | None = None
    for unit in units:
        if pending is not None and sizer.fits(sizer.join(pending, unit)):
            pending = sizer.join(pending, unit)
        else:
            if pending is not None:
                out.append(pending)
            pending = unit
        if _chars(sizer.text, pending) >= min_chars:
            out.append(pending)
            pending = None
    if pending is not None:
        if out and sizer.fits(sizer.join(out[-1], pending)):
            out[-1] = sizer.join(out[-1], pending)
        else:
            out.append(pending)
    return out


def _chars(text: str, unit: Unit) -> int:
    """Non-whitespace characters in a unit (separators between merged lines do not count)."""
    return sum(1 for ch in text[unit[0] : unit[1]] if not ch.isspace())
