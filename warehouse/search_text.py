"""Normalised search text: the tokens the full-text index and its queries are built from.

DuckDB's fts tokenizer keeps only a–z runs, so Chinese and Korean vanish from the index, and a
Korean particle glued to a noun (사드가, 사드를) makes a different word. Here text becomes
space-separated tokens: every run of Han, kana or Hangul characters becomes its overlapping
character bigrams (a one-character run stays a unigram), so 美国 matches 美国的 and 사드 matches
사드가; every other word is lower-cased (NFKC). The same function tokenises queries, and
``warehouse/queries/search_macro.sql`` is the same rule in SQL for plain DuckDB sessions.
"""

from __future__ import annotations

import re
import unicodedata

TOKENIZER_VERSION = "bigram-1"
"""Changes whenever ``tokens`` changes, so stored search texts are rebuilt."""

CJK_RANGES = r"\u3040-\u30ff\u3130-\u318f\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7a3\uf900-\ufaff"
"""Kana, Hangul compatibility jamo, CJK ideographs (+ extension A, compatibility), Hangul syllables
(regex escapes; search_macro.sql spells the same ranges as \\x{...})."""

SEPARATOR_RANGES = (
    r"\x00-\x2f\x3a-\x40\x5b-\x60\x7b-\xbf\xd7\xf7\u1680\u2000-\u206f\u2e00-\u2e7f"
    r"\u3000-\u303f\ufe30-\ufe4f\uff00-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff65"
)
"""Whitespace and punctuation (ASCII, Latin-1, general, CJK and full-width): never part of a word."""

_TOKEN = re.compile(f"([{CJK_RANGES}]+)|([^{SEPARATOR_RANGES}{CJK_RANGES}]+)")


def bigrams(run: str) -> list[str]:
    """Overlapping character bigrams of a CJK run ('萨德系统' → 萨德 德系 系统); one char stays."""
    if len(run) < 2:
        return [run]
    return [run[i : i + 2] for i in range(len(run) - 1)]


def tokens(text: str | None) -> list[str]:
    """The search tokens of ``text``, in order: CJK runs as bigrams, other words lower-cased."""
    if not text:
        return []
    out: list[str] = []
    for cjk, word in _TOKEN.findall(unicodedata.normalize("NFKC", text).lower()):
        out.extend(bigrams(cjk) if cjk else [word])
    return out


def search_text(*parts: str | None) -> str:
    """The normalised search text of several fields (title, body), tokens joined by spaces."""
    return " ".join(t for part in parts for t in tokens(part))


def query_terms(query: str) -> str:
    """A user query tokenised like the index (what ``match_bm25`` must be given)."""
    return " ".join(dict.fromkeys(tokens(query)))
