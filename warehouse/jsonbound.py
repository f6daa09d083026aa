"""Bounded JSON for untrusted bytes: nesting depth measured before parsing, numbers range-checked.

Python's ``json`` recurses once per nested array or object, so a line of 200,000 ``[`` ends in
a RecursionError deep inside the parser. ``nesting_depth`` measures the depth first without
recursion (strings removed by one regular expression, the brackets left counted with numpy),
and ``loads`` refuses NaN/Infinity, non-finite floats (``1e999``) and integers outside
[-2**63, 2**64 - 1], so what it returns can be written back as strict JSON and into DuckDB.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

import numpy as np

MIN_INT = -(2**63)
MAX_INT = 2**64 - 1
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


class JSONBoundError(ValueError):
    """JSON that is over a bound (depth, number range) or non-standard; the message says which."""


def nesting_depth(data: bytes) -> int:
    """The deepest nesting of arrays and objects in ``data`` (brackets inside strings ignored)."""
    return bracket_depth(_STRING.sub(b'""', data))


def bracket_depth(data: bytes) -> int:
    """The deepest nesting of ``[]``/``{}`` in ``data`` (strings already removed), without recursion."""
    brackets = data.translate(None, _NOT_BRACKETS)
    if not brackets:
        return 0
    codes = np.frombuffer(brackets, dtype=np.uint8)
    steps = np.where((codes == ord("[")) | (codes == ord("{")), 1, -1).astype(np.int32)
    return int(np.cumsum(steps).max())


def _refuse_constant(name: str) -> Any:
    """Refuse NaN, Infinity and -Infinity (not JSON)."""
    raise JSONBoundError(f"{name} is not a JSON number")


def _bounded_int(text: str) -> int:
    """An integer literal within [MIN_INT, MAX_INT]."""
    if len(text) > 21 or not MIN_INT <= (value := int(text)) <= MAX_INT:
        raise JSONBoundError(f"integer {text[:24]}{'…' if len(text) > 24 else ''} is out of range")
    return value


def _finite_float(text: str) -> float:
    """A float literal that stays finite (``1e999`` is refused)."""
    value = float(text)
    if not math.isfinite(value):
        raise JSONBoundError(f"number {text[:24]} is out of range")
    return value


def loads(data: bytes, max_depth: int) -> Any:
    """Parse UTF-8 JSON bytes no deeper than ``max_depth``; JSONBoundError or ValueError otherwise."""
    depth = nesting_depth(data)
    if depth > max_depth:
        raise JSONBoundError(f"nested {depth:,} levels deep (the limit is {max_depth})")
    return json.loads(
        data.decode("utf-8"),
        parse_constant=_refuse_constant,
        parse_int=_bounded_int,
        parse_float=_finite_float,
    )
