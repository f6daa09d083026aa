"""The one script and language detector of axiswatch: Unicode ranges, script counts, guesses.

Every caller reads the same ranges below. ``detect_language`` always answers (it routes a
passage to an encoder head); ``script_language`` is ingest's guess for a whole article and
answers None when the script mix gives no confident guess; near-duplicate detection shingles
a text by characters when ``script_language`` calls it ko, zh or ja.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

Ranges = tuple[tuple[int, int], ...]

HANGUL_RANGES: Ranges = (
    (0x1100, 0x11FF),  # Hangul Jamo
    (0x3130, 0x318F),  # Hangul Compatibility Jamo
    (0xA960, 0xA97F),  # Hangul Jamo Extended-A
    (0xAC00, 0xD7AF),  # Hangul Syllables
    (0xD7B0, 0xD7FF),  # Hangul Jamo Extended-B
    (0xFFA0, 0xFFDC),  # halfwidth Hangul
)
HAN_RANGES: Ranges = (
    (0x3400, 0x4DBF),  # CJK Unified Ideographs Extension A
    (0x4E00, 0x9FFF),  # CJK Unified Ideographs
    (0xF900, 0xFAFF),  # CJK Compatibility Ideographs
    (0x20000, 0x2FA1F),  # Extensions B-F and the Compatibility Ideographs Supplement
)
KANA_RANGES: Ranges = (
    (0x3040, 0x309F),  # Hiragana
    (0x30A0, 0x30FF),  # Katakana
    (0x31F0, 0x31FF),  # Katakana Phonetic Extensions
    (0xFF66, 0xFF9F),  # halfwidth Katakana
    (0x1B000, 0x1B16F),  # Kana Supplement and Extended-A
)


def char_class(ranges: Ranges) -> str:
    """The body of a regex character class (no brackets) matching ``ranges``."""
    return "".join(f"\\U{low:08x}-\\U{high:08x}" for low, high in ranges)


HANGUL_CLASS = char_class(HANGUL_RANGES)
HAN_CLASS = char_class(HAN_RANGES)
KANA_CLASS = char_class(KANA_RANGES)

_HANGUL = re.compile(f"[{HANGUL_CLASS}]")
_HAN = re.compile(f"[{HAN_CLASS}]")
_KANA = re.compile(f"[{KANA_CLASS}]")
_ACCENTED = "\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f"  # Latin-1 and Latin Extended-A/B letters
_LATIN_WORD = re.compile(f"[A-Za-z{_ACCENTED}]+")
_DIACRITIC = re.compile(f"[{_ACCENTED}]")
_WORD = re.compile(r"\w+")
SAMPLE_CHARS = 20_000
"""Only the first SAMPLE_CHARS characters of a text are read."""

# fmt: off
_ENGLISH_FUNCTION_WORDS = frozenset({
    "the", "of", "and", "to", "in", "a", "is", "that", "for", "on", "with", "as", "by", "at",
    "from", "its", "it", "be", "are", "was", "were", "been", "has", "have", "this", "an", "not",
    "but", "or", "which", "who", "will", "would", "could", "should", "said", "their", "he",
    "she", "his", "her", "they", "we", "our",
})
_OTHER_FUNCTION_WORDS = frozenset({
    "der", "das", "und", "ist", "nicht", "mit", "ein", "eine", "den", "von", "dem", "zu", "auf",
    "le", "la", "les", "des", "et", "est", "une", "pour", "que", "qui", "dans", "du", "au", "aux",
    "el", "los", "las", "y", "es", "una", "para", "del", "por", "con", "os", "um", "uma", "não",
    "com", "il", "di", "che", "è", "per", "non", "yang", "dan", "ini", "itu", "dengan", "untuk",
    "tidak",
})
# fmt: on

LANGUAGES: tuple[str, ...] = ("en", "ko", "zh", "ja", "other", "und")
"""Codes ``detect_language`` can return (``und``: no Latin or CJK letters at all)."""
CJK_LANGUAGES = frozenset({"ko", "zh", "ja"})


@dataclass(frozen=True)
class ScriptCounts:
    """How many characters of each script a text has, and its Latin-script words."""

    hangul: int
    han: int
    kana: int
    letters: int  # alphabetic characters of any script (str.isalpha)
    words: tuple[str, ...]  # Latin-script words

    @property
    def cjk(self) -> int:
        """Hangul, Han and Kana characters together."""
        return self.hangul + self.han + self.kana

    @property
    def latin(self) -> int:
        """Latin letters."""
        return sum(len(word) for word in self.words)


def count_scripts(text: str) -> ScriptCounts:
    """Count the scripts in the first SAMPLE_CHARS characters of ``text``."""
    sample = text[:SAMPLE_CHARS]
    hangul, han, kana = (len(rx.findall(sample)) for rx in (_HANGUL, _HAN, _KANA))
    letters = sum(map(str.isalpha, sample))
    return ScriptCounts(hangul, han, kana, letters, tuple(_LATIN_WORD.findall(sample)))


def detect_language(text: str) -> str:
    """Guess the language of ``text`` from its script: ko, zh, ja, en, other or und."""
    return _decide(count_scripts(text))


def script_language(text: str) -> str | None:
    """Like ``detect_language``, but None unless ko, zh, ja or en is a confident guess."""
    counts = count_scripts(text)
    language = _decide(counts)
    if language in CJK_LANGUAGES:
        return language if counts.cjk >= 0.3 * counts.letters else None
    if language == "en" and counts.latin >= 0.5 * counts.letters:
        return language if _english_share(text[:SAMPLE_CHARS]) >= 0.15 else None
    return None


def _english_share(text: str) -> float:
    """Share of English function words among the whole alphabetic words of ``text``."""
    words = [word.lower() for word in _WORD.findall(text) if word.isalpha()]
    return sum(word in _ENGLISH_FUNCTION_WORDS for word in words) / len(words) if words else 0.0


def _decide(counts: ScriptCounts) -> str:
    """The one decision: CJK by script shares when CJK characters outnumber Latin words."""
    cjk = counts.cjk
    if cjk == 0 and not counts.words:
        return "und"
    if cjk > len(counts.words):
        if counts.hangul >= 0.2 * cjk:
            return "ko"
        return "ja" if counts.kana >= 0.05 * cjk else "zh"
    return _latin_language(counts.words)


def _latin_language(words: tuple[str, ...]) -> str:
    """Tell English from other Latin-script languages by function words and diacritics."""
    lowered = [word.lower() for word in words]
    english = sum(word in _ENGLISH_FUNCTION_WORDS for word in lowered)
    other = sum(word in _OTHER_FUNCTION_WORDS for word in lowered)
    letters = sum(len(word) for word in words)
    diacritics = sum(len(_DIACRITIC.findall(word)) for word in words)
    if other > english or diacritics > 0.03 * letters:
        return "other"
    return "en"
