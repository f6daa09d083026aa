"""JSON output of every `--json`: always valid JSON (NaN and ±Infinity become null)."""

from __future__ import annotations

import dataclasses
import json
import math
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any


def finite(value: Any) -> Any:
    """A JSON-ready copy: non-finite floats → None, dates → ISO text, containers recursively."""
    if isinstance(value, float | Decimal):
        number = float(value)
        return number if math.isfinite(number) else None
    if isinstance(value, dict):
        return {str(k): finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [finite(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return finite(dataclasses.asdict(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return finite(value.item())
    return value


def dumps(value: Any, indent: int | None = None) -> str:
    """Serialise ``value`` as strict JSON (no NaN/Infinity), non-ASCII kept as is."""
    return json.dumps(finite(value), ensure_ascii=False, allow_nan=False, default=str, indent=indent)
