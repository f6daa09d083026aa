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
