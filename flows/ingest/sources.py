"""seeds/sources.toml: the outlets to watch; strict loading with file, line and reason."""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

KINDS = ("newspaper", "think-tank", "state-media", "wire", "blog")
AFFILIATIONS = ("state", "independent", "public")
REQUIRED = ("id", "name", "feed_url", "country", "language", "kind")
OPTIONAL = ("affiliation", "opinion_only", "group", "enabled", "notes")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")


class SourcesError(ValueError):
    """sources.toml cannot be used; the message names the file, line and reason."""


@dataclass(frozen=True)
class Source:
    """One outlet and its feed, as configured."""

    id: str
    name: str
    feed_url: str
    country: str
    language: str
    kind: str
    affiliation: str | None = None
    opinion_only: bool = False
    group: str | None = None
    enabled: bool = True
    notes: str | None = None

    def config_json(self) -> str:
        """Every configured key as canonical JSON (stored in the sources table)."""
        return json.dumps(asdict(self), sort_keys=True, ensure_ascii=False)

    def row(self) -> dict[str, Any]:
        """The configuration columns of this source's row in the sources table."""
        return {
            "source_id": self.id,
            "name": self.name,
            "feed_url": self.feed_url,
            "country": self.country,
            "language": self.language,
            "kind": self.kind,
            "affiliation": self.affiliation,
            "opinion_only": self.opinion_only,
            "config_json": self.config_json(),
            "active": self.enabled,
        }


def _table_lines(text: str) -> list[tuple[int, int]]:
    """(first, last) line numbers of each [[sources]] table, in order."""
    lines = text.splitlines()
    starts = [i + 1 for i, line in enumerate(lines) if re.match(r"^\s*\[\[\s*sources\s*\]\]", line)]
    spans = []
    for n, start in enumerate(starts):
        end = starts[n + 1] - 1 if n + 1 < len(starts) else len(lines)
        spans.append((start, end))
    return spans


def _key_line(text: str, span: tuple[int, int], key: str) -> int:
    """Line number of ``key = ...`` inside a table span, else the table's first line."""
    lines = text.splitlines()
    for number in range(span[0], span[1] + 1):
        if re.match(rf"^\s*{re.escape(key)}\s*=", lines[number - 1]):
            return number
    return span[0]


def _check_url(url: Any) -> str | None:
    """Why ``url`` is not a usable feed URL, or None when it is."""
    if not isinstance(url, str):
        return "feed_url must be a string"
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return f"feed_url {url!r} must start with http:// or https://"
    if not parts.hostname:
        return f"feed_url {url!r} has no host"
    return None


def _check_table(table: dict[str, Any]) -> tuple[str, str] | None:
    """First problem in one table as (key, reason), or None."""
    for key in table:
        if key not in REQUIRED and key not in OPTIONAL:
            allowed = ", ".join(REQUIRED + OPTIONAL)
            return key, f"unknown key {key!r} (allowed: {allowed})"
    for key in REQUIRED:
        if key not in table:
            return "", f"missing required key {key!r}"
        if not isinstance(table[key], str) or not table[key].strip():
            return key, f"{key} must be a non-empty string"
    checks: list[tuple[str, bool, str]] = [
        ("id", bool(_SLUG.match(table["id"])), "id must be a lower-case slug (a-z, 0-9, -)"),
        (
            "country",
            bool(_COUNTRY.match(table["country"])),
            "country must be ISO 3166 alpha-2, e.g. KR",
        ),
        (
            "language",
            bool(_LANGUAGE.match(table["language"])),
            "language must be a BCP 47 primary tag, e.g. en",
        ),
        ("kind", table["kind"] in KINDS, f"kind must be one of {', '.join(KINDS)}"),
        (
            "affiliation",
            table.get("affiliation") in (None, *AFFILIATIONS),
            f"affiliation must be one of {', '.join(AFFILIATIONS)}",
        ),
        (
            "opinion_only",
            isinstance(table.get("opinion_only", False), bool),
            "opinion_only must be true or false",
        ),
        ("enabled", isinstance(table.get("enabled", True), bool), "enabled must be true or false"),
    ]
    for key, ok, reason in checks:
        if not ok:
            return key, reason
    problem = _check_url(table["feed_url"])
    return ("feed_url", problem) if problem else None


def parse_sources(text: str, origin: str = "<sources>") -> list[Source]:
    """Parse and validate sources.toml text; raise SourcesError naming origin:line and reason."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"at line (\d+)", str(exc))
        where = f"{origin}:{match.group(1)}" if match else origin
        raise SourcesError(f"{where}: not valid TOML: {exc}") from exc
    extra = sorted(set(data) - {"sources"})
    if extra:
        raise SourcesError(f"{origin}:1: unknown top-level key {extra[0]!r} (only [[sources]] tables)")
    tables = data.get("sources")
    if not isinstance(tables, list) or not tables:
        raise SourcesError(f"{origin}:1: no [[sources]] tables")
    spans = _table_lines(text)
    seen: dict[str, int] = {}
    result = []
    for n, table in enumerate(tables):
        span = spans[n] if n < len(spans) else (1, len(text.splitlines()))
        problem = _check_table(table)
        if problem:
            key, reason = problem
            line = _key_line(text, span, key) if key else span[0]
            raise SourcesError(f"{origin}:{line}: {reason}")
        if table["id"] in seen:
            line = _key_line(text, span, "id")
            raise SourcesError(
                f"{origin}:{line}: duplicate id {table['id']!r} (first defined at line {seen[table['id']]})"
            )
        seen[table["id"]] = _key_line(text, span, "id")
        result.append(Source(**table))
    return result


def load_sources(path: Path) -> list[Source]:
    """Read and validate a sources.toml file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise SourcesError(f"{path}: no such sources file") from exc
    except UnicodeDecodeError as exc:
        raise SourcesError(f"{path}: not UTF-8 text ({exc.reason})") from exc
    return parse_sources(text, str(path))
