"""Text any stage can take: lone surrogates replaced, NUL and control characters removed."""

from __future__ import annotations

import re

_SURROGATE = re.compile("[\ud800-\udfff]")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")  # keeps \t, \n, \r


def clean_text(text: str) -> str:
    """``text`` with lone surrogates as U+FFFD and NUL/control characters (but tab, CR, LF) removed."""
    return _CONTROL.sub("", _SURROGATE.sub("\ufffd", text))


def clean_optional(text: str | None) -> str | None:
    """clean_text for an optional field (None stays None)."""
    return None if text is None else clean_text(text)


_CHARREF = re.compile(r"&#([xX][0-9a-fA-F]{1,8}|[0-9]{1,10});")


def _is_control(code: int) -> bool:
    """A C0/C1 control character other than tab, LF and CR."""
    return (code < 32 and code not in (9, 10, 13)) or 0x7F <= code <= 0x9F


def _charref(match: re.Match[str]) -> str:
    """A numeric character reference made safe: controls dropped, surrogates and overflows as U+FFFD."""
    ref = match.group(1)
    code = int(ref[1:], 16) if ref[0] in "xX" else int(ref)
    if 0xD800 <= code <= 0xDFFF or code > 0x10FFFF:
        return "&#xFFFD;"
    return "" if _is_control(code) else match.group(0)


def clean_markup(markup: str) -> str:
    """HTML/XML text with raw and referenced control characters removed and references to lone
    surrogates replaced (parsers and extractors choke on them, feedparser crashes)."""
    return _CHARREF.sub(_charref, clean_text(markup))
