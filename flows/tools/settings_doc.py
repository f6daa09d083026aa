"""The settings table of docs/sources-and-settings.md, generated from the Settings model.

``python -m flows.tools.settings_doc --markdown`` prints the table; ``--update FILE`` rewrites it
between the settings-table markers (tests/test_readme.py fails when the two differ).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

import annotated_types
from pydantic import AfterValidator
from pydantic.fields import FieldInfo

from flows.settings import ENV_PREFIX, KIND_OF, PROJECT_ROOT, Settings, SettingsError

TABLE_BEGIN = (
    "<!-- settings-table:begin (generated: python -m flows.tools.settings_doc"
    " --update docs/sources-and-settings.md) -->"
)
TABLE_END = "<!-- settings-table:end -->"
_TYPE_NAMES = {bool: "boolean", int: "integer", float: "number", str: "text", Path: "path"}


def _kind(field: FieldInfo) -> str:
    """The value kind of a field as the settings table shows it: number, path, cron (5 fields), ..."""
    for item in field.metadata:
        if isinstance(item, AfterValidator) and item.func in KIND_OF:
            return KIND_OF[item.func]
    annotation = field.annotation
    if get_origin(annotation) is tuple:
        return "list, comma-separated"
    args: list[Any] = [annotation]
    if get_origin(annotation) is not Literal:  # Optional/Union: the first non-None member
        args = [a for a in get_args(annotation) if a is not type(None)] or [annotation]
    if get_origin(args[0]) is Literal:
        return "one of " + ", ".join(f"`{v}`" for v in get_args(args[0]))
    return _TYPE_NAMES.get(args[0], str(annotation))


def _limits(field: FieldInfo) -> str:
    """The range of a field from its constraints, e.g. ``> 0``, ``≥ 1``, ``(0, 1]``."""
    low = next((f"> {m.gt:g}" for m in field.metadata if isinstance(m, annotated_types.Gt)), None)
    low = low or next((f"≥ {m.ge:g}" for m in field.metadata if isinstance(m, annotated_types.Ge)), None)
    high = next((m.le for m in field.metadata if isinstance(m, annotated_types.Le)), None)
    if low and high is not None:
        return f"{'(' if low[0] == '>' else '['}{low[2:]}, {high:g}]"
    return low or ""


def _shown_default(field: FieldInfo) -> str:
    """A field's default as an env value would spell it."""
    extra = field.json_schema_extra
    if isinstance(extra, dict) and extra.get("shown"):
        return f"{extra['shown']}"
    value = field.default
    if isinstance(value, Path):
        return str(value.relative_to(PROJECT_ROOT) if value.is_relative_to(PROJECT_ROOT) else value)
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, tuple):
        return ",".join(value) or "(none)"
    return "(none)" if value is None else f"{value:g}" if isinstance(value, float) else str(value)


def settings_table() -> str:
    """The settings table: one row per field of Settings, in declaration order."""
    rows = ["| env | type | default | meaning |", "|---|---|---|---|"]
    for name, field in Settings.model_fields.items():
        kind = " ".join(filter(None, (_kind(field), _limits(field))))
        default = _shown_default(field).replace("|", "\\|")
        default = default if default.startswith("(") else f"`{default}`"
        rows.append(f"| `{ENV_PREFIX}{name.upper()}` | {kind} | {default} | {field.description} |")
    return "\n".join(rows)


def with_settings_table(readme: str) -> str:
    """``readme`` with the text between the settings-table markers replaced by ``settings_table()``."""
    begin, end = readme.find(TABLE_BEGIN), readme.find(TABLE_END)
    if begin < 0 or end < begin:
        raise SettingsError(f"the page has no settings-table markers ({TABLE_BEGIN} ... {TABLE_END})")
    return readme[: begin + len(TABLE_BEGIN)] + "\n" + settings_table() + "\n" + readme[end:]


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m flows.tools.settings_doc --markdown`` prints the table; ``--update FILE`` rewrites it."""
    parser = argparse.ArgumentParser(prog="python -m flows.tools.settings_doc", description=main.__doc__)
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--markdown", action="store_true", help="print the settings table")
    action.add_argument(
        "--update",
        type=Path,
        metavar="FILE",
        help="rewrite the table in FILE (docs/sources-and-settings.md)",
    )
    args = parser.parse_args(argv)
    if args.markdown:
        print(settings_table())
        return 0
    text = args.update.read_text(encoding="utf-8")
    args.update.write_text(with_settings_table(text), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
