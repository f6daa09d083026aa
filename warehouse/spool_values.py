"""The tagged JSON values of spool files: plain JSON, or a one-key tagged object for the few
other types (see warehouse/spool.py); decoding constructs nothing unregistered and range-checks
every value."""

from __future__ import annotations

import base64
import dataclasses
import json
import math
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

from warehouse.ops import RECORDS, record_tag

MAX_DAYS = 999_999_999  # timedelta's own range


class SpoolError(ValueError):
    """A spool file that cannot be replayed; the message is the one-line reason."""


def encode(value: Any) -> Any:
    """A JSON-able form of one argument value (tagged objects for non-JSON types)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {"$float": repr(value)}
    if isinstance(value, np.generic):
        return encode(value.item())
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        return _encode_dict(value)
    for kind, encoder in _ENCODERS:
        if isinstance(value, kind):
            return encoder(value)
    tag = record_tag(value)
    if tag is None:
        name = type(value).__name__
        raise TypeError(f"cannot spool a value of type {name} (register it with warehouse.ops.record)")
    fields = {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value) if f.init}
    return {"$record": tag, "fields": fields}


def _encode_dict(value: dict[Any, Any]) -> Any:
    """A dict as a JSON object, or as tagged pairs when a key is not a plain string."""
    if all(isinstance(k, str) and not k.startswith("$") for k in value):
        return {k: encode(v) for k, v in value.items()}
    return {"$dict": [[encode(k), encode(v)] for k, v in value.items()]}


def _encode_datetime(value: datetime) -> dict[str, str]:
    """A datetime as ISO 8601 (offset included), with the zone's name when it has one."""
    out = {"$datetime": value.isoformat()}
    if isinstance(value.tzinfo, ZoneInfo):
        out["tz"] = value.tzinfo.key
    return out


_ENCODERS: tuple[tuple[type[Any], Callable[[Any], Any]], ...] = (
    (datetime, _encode_datetime),  # before date: a datetime is a date
    (date, lambda v: {"$date": v.isoformat()}),
    (timedelta, lambda v: {"$timedelta": [v.days, v.seconds, v.microseconds]}),
    (bytes, lambda v: {"$bytes": base64.b64encode(v).decode("ascii")}),
    (bytearray, lambda v: {"$bytes": base64.b64encode(v).decode("ascii")}),
    (tuple, lambda v: {"$tuple": [encode(x) for x in v]}),
)


def decode(value: Any) -> Any:
    """The argument value a JSON form stands for (raises SpoolError on an unknown tag)."""
    if isinstance(value, list):
        return [decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    tags = [k for k in value if k.startswith("$")]
    if not tags:
        return {k: decode(v) for k, v in value.items()}
    decoder = _DECODERS.get(tags[0]) if len(tags) == 1 else None
    if decoder is None:
        raise SpoolError(f"corrupt: unknown value tag(s) {', '.join(tags)}")
    try:
        return decoder(value)
    except SpoolError:
        raise
    except (
        TypeError,
        ValueError,
        LookupError,
        AttributeError,
        ArithmeticError,
        ZoneInfoNotFoundError,
    ) as exc:
        raise SpoolError(f"corrupt: bad {tags[0][1:]} value {json.dumps(value)[:120]}: {exc}") from exc


def _decode_datetime(obj: dict[str, Any]) -> datetime:
    """A tagged datetime, in its named zone when one was recorded."""
    value = datetime.fromisoformat(_text(obj, "$datetime"))
    return value.astimezone(ZoneInfo(_text(obj, "tz"))) if "tz" in obj else value


def _decode_timedelta(obj: dict[str, Any]) -> timedelta:
    """A tagged timedelta: three integers (days, seconds, µs) within timedelta's range."""
    parts = obj["$timedelta"]
    if not (isinstance(parts, list) and len(parts) == 3 and all(type(p) is int for p in parts)):
        raise TypeError("need [days, seconds, microseconds] as three integers")
    days, seconds, micros = parts
    if abs(days) > MAX_DAYS or abs(seconds) >= 86_400 or abs(micros) >= 1_000_000:
        raise ValueError("out of range (|days| <= 999999999, |seconds| < 86400, |µs| < 1000000)")
    return timedelta(days, seconds, micros)


def _listed(obj: dict[str, Any], tag: str) -> list[Any]:
    """The list a tag holds (TypeError when it is not a list)."""
    value = obj[tag]
    if not isinstance(value, list):
        raise TypeError(f"{tag[1:]} must hold a list")
    return value


def _text(obj: dict[str, Any], tag: str) -> str:
    """The string a tag holds (TypeError when it is not a string)."""
    value = obj[tag]
    if not isinstance(value, str):
        raise TypeError(f"{tag[1:]} must hold a string")
    return value


def _decode_float(text: str) -> float:
    """A non-finite float."""
    if text not in ("nan", "inf", "-inf"):
        raise ValueError(f"not a non-finite float: {text!r}")
    return float(text)


def _decode_record(obj: dict[str, Any]) -> Any:
    """A registered dataclass built from its tagged fields (never an unregistered class)."""
    cls = RECORDS.get(_text(obj, "$record"))
    if cls is None:
        raise SpoolError(f"corrupt: unknown record type {obj['$record'][:80]!r}")
    return cls(**{name: decode(v) for name, v in obj["fields"].items()})


_DECODERS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "$datetime": _decode_datetime,
    "$date": lambda o: date.fromisoformat(_text(o, "$date")),
    "$timedelta": _decode_timedelta,
    "$bytes": lambda o: base64.b64decode(_text(o, "$bytes"), validate=True),
    "$tuple": lambda o: tuple(decode(v) for v in _listed(o, "$tuple")),
    "$float": lambda o: _decode_float(_text(o, "$float")),
    "$dict": lambda o: {decode(k): decode(v) for k, v in _listed(o, "$dict")},
    "$record": _decode_record,
}
