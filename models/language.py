"""Per-passage language detection by script, used to pick an encoder."""

from __future__ import annotations

import re

_HANGUL = re.compile(r"[\u1100-\u11ff\u3130-\u318f\uac00-\ud7af]")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_KANA = re.compile(r"[\u3040-\u30ff\u31f0-\u31ff]")
_LATIN_WORD = re.compile(r"[A-Za-z\u00c0-\u024f]+")
_DIACRITIC = re.compile(r"[\u00c0-\u00ff\u0100-\u024f]")
_ENGLISH_FUNCTION_WORDS = frozenset(
    {
        "the",
        "of",
        "and",
        "to",
        "in",
        "a",
        "is",
        "that",
        "for",
        "on",
        "with",
        "as",
        "by",
        "at",
        "from",
        "its",
        "it",
        "be",
        "are",
        "was",
        "has",
        "have",
        "this",
        "an",
        "not",
        "but",
        "or",
        "which",
        "will",
        "would",
        "could",
        "should",
        "their",
        "his",
        "her",
        "they",
        "we",
        "our",
    }
)
_OTHER_FUNCTION_WORDS = frozenset(
    {
        "der",
        "das",
        "und",
        "ist",
        "nicht",
        "mit",
        "ein",
        "eine",
        "den",
        "von",
        "dem",
        "zu",
        "auf",
        "le",
        "la",
        "les",
        "des",
        "et",
        "est",
        "une",
        "pour",
        "que",
        "qui",
        "dans",
        "du",
        "au",
        "aux",
        "el",
        "los",
        "las",
        "y",
        "es",
        "una",
        "para",
        "del",
        "por",
        "con",
        "os",
        "um",
        "uma",
        "não",
        "com",
        "il",
        "di",
        "che",
        "è",
        "per",
        "non",
        "yang",
        "dan",
        "ini",
        "itu",
        "dengan",
        "untuk",
        "tidak",
    }
)

LANGUAGES: tuple[str, ...] = ("en", "ko", "zh", "ja", "other", "und")
"""Codes ``detect_language`` can return (``und``: no letters at all)."""


def detect_language(text: str) -> str:
    """Guess the language of ``text`` from its script: ko, zh, ja, en, other or und."""
    hangul = len(_HANGUL.findall(text))
    han = len(_HAN.findall(text))
    kana = len(_KANA.findall(text))
    words = _LATIN_WORD.findall(text)
    cjk = hangul + han + kana
    if cjk == 0 and not words:
        return "und"
    if cjk > len(words):
        if kana >= 0.05 * cjk:
            return "ja"
        if hangul >= 0.2 * cjk:
            return "ko"
        return "zh"
    return _latin_language(words)


def _latin_language(words: list[str]) -> str:
    """Tell English from other Latin-script languages by function words and diacritics."""
    lowered = [word.lower() for word in words]
    english = sum(1 for word in lowered if word in _ENGLISH_FUNCTION_WORDS)
    other = sum(1 for word in lowered if word in _OTHER_FUNCTION_WORDS)
    letters = sum(len(word) for word in words)
    diacritics = sum(len(_DIACRITIC.findall(word)) for word in words)
    if other > english or diacritics > 0.03 * letters:
        return "other"
    return "en"
