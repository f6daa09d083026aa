"""seeds/sources.toml: the outlets to watch; strict loading with file, line and reason."""

from __future__ import annotations

import json
import re
import stat
import tomllib
import unicodedata
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from warehouse.jsonbound import bracket_depth

KINDS = ("newspaper", "think-tank", "state-media", "wire", "blog")
AFFILIATIONS = ("state", "independent", "public")
REQUIRED = ("id", "name", "feed_url", "country", "language", "kind")
OPTIONAL = ("affiliation", "opinion_only", "group", "enabled", "notes")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")
_TABLE_HEADER = re.compile(r"^\s*\[\[\s*sources\s*\]\]")
_TOML_STRINGS = re.compile(r'''"""[\s\S]*?"""|\'\'\'[\s\S]*?\'\'\'|"(?:[^"\\\n]|\\.)*"|'[^'\n]*'|#[^\n]*''')
MAX_BYTES = 64 * 1024 * 1024  # about 250,000 sources (the scale-out sizing goes to 200,000 feeds)
MAX_DEPTH = 16  # [[sources]] tables need 2; tomllib recurses once per level
TEXT_KEYS = ("id", "name", "feed_url", "country", "language", "kind", "affiliation", "group", "notes")


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


def _table_lines(lines: list[str]) -> list[tuple[int, int]]:
    """(first, last) line numbers of each [[sources]] table, in order."""
    starts = [i + 1 for i, line in enumerate(lines) if _TABLE_HEADER.match(line)]
    ends = [s - 1 for s in starts[1:]] + [len(lines)]
    return list(zip(starts, ends, strict=True))


def _key_line(lines: list[str], span: tuple[int, int], key: str) -> int:
    """Line number of ``key = ...`` inside a table span, else the table's first line."""
    pattern = re.compile(rf"^\s*{re.escape(key)}\s*=")
    for number in range(span[0], span[1] + 1):
        if pattern.match(lines[number - 1]):
            return number
    return span[0]


def _check_url(url: Any) -> str | None:
    """Why ``url`` is not a usable feed URL, or None when it is (what urlsplit and ports reject too)."""
    if not isinstance(url, str):
        return "feed_url must be a string"
    if url != url.strip() or any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in url):
        return f"feed_url {url!r} holds spaces or control characters"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        return f"feed_url {url!r} is not a valid URL ({exc})"
    if parts.scheme not in ("http", "https"):
        return f"feed_url {url!r} must start with http:// or https://"
    if not parts.hostname:
        return f"feed_url {url!r} has no host"
    if port == 0:
        return f"feed_url {url!r}: port must be 1-65535"
    return None


def _control_problem(table: dict[str, Any]) -> tuple[str, str] | None:
    """The first text value holding a control character (NUL, ESC, ...) as (key, reason)."""
    for key in TEXT_KEYS:
        value = table.get(key)
        allowed = "\t\n" if key == "notes" else ""
        if not isinstance(value, str):
            continue
        bad = next((c for c in value if unicodedata.category(c) == "Cc" and c not in allowed), None)
        if bad is not None:
            who = table["id"] if key != "id" else value
            return key, f"source {who!r}: {key} holds a control character (U+{ord(bad):04X})"
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
    control = _control_problem(table)
    if control:
        return control
    checks: list[tuple[str, bool, str]] = [
        ("id", bool(_SLUG.fullmatch(table["id"])), "id must be a lower-case slug (a-z, 0-9, -)"),
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


def _check_bounds(text: str, origin: str) -> None:
    """Refuse a sources text too large or nested too deeply for the TOML parser, before parsing."""
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_BYTES:
        raise SourcesError(f"{origin}: {size:,} bytes, over the {MAX_BYTES:,}-byte limit of a sources file")
    bare = _TOML_STRINGS.sub("", text).encode("utf-8", "surrogatepass")
    depth = bracket_depth(bare)
    if depth > MAX_DEPTH:
        raise SourcesError(
            f"{origin}: arrays or tables nested {depth:,} levels deep (the limit is {MAX_DEPTH})"
        )


def parse_sources(text: str, origin: str = "<sources>") -> list[Source]:
    """Parse and validate sources.toml text; raise SourcesError naming origin:line and reason."""
    _check_bounds(text, origin)
    try:
        data = tomllib.loads(text)
    except RecursionError:
        raise SourcesError(f"{origin}: not valid TOML: nested too deeply") from None
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
    lines = text.splitlines()
    spans = _table_lines(lines)
    seen: dict[str, int] = {}
    result = []
    for n, table in enumerate(tables):
        span = spans[n] if n < len(spans) else (1, len(lines))
        problem = _check_table(table)
        if problem:
            key, reason = problem
            line = _key_line(lines, span, key) if key else span[0]
            raise SourcesError(f"{origin}:{line}: {reason}")
        if table["id"] in seen:
            line = _key_line(lines, span, "id")
            raise SourcesError(
                f"{origin}:{line}: duplicate id {table['id']!r} (first defined at line {seen[table['id']]})"
            )
        seen[table["id"]] = _key_line(lines, span, "id")
        result.append(Source(**table))
    return result


def load_sources(path: Path) -> list[Source]:
    """Read and validate a sources.toml file (a regular file within MAX_BYTES)."""
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_BYTES:
            raise SourcesError(
                f"{path}: not a regular file within {MAX_BYTES:,} bytes ({info.st_size:,} bytes)"
            )
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise SourcesError(f"{path}: no such sources file") from exc
    except UnicodeDecodeError as exc:
        raise SourcesError(f"{path}: not UTF-8 text ({exc.reason})") from exc
    return parse_sources(text, str(path))


def summarize(sources: list[Source]) -> dict[str, dict[str, int]]:
    """Counts of sources by country, language and kind (most common first)."""
    out: dict[str, dict[str, int]] = {}
    for field in ("country", "language", "kind"):
        counts = Counter(getattr(s, field) for s in sources)
        out[field] = dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
    return out


def summary_lines(path: Path, sources: list[Source]) -> list[str]:
    """Human lines for `axiswatch sources check`: totals, then counts by country, language, kind."""
    enabled = sum(s.enabled for s in sources)
    lines = [f"{path}: {len(sources)} sources valid ({enabled} enabled)"]
    for field, counts in summarize(sources).items():
        lines.append(f"  by {field}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    return lines
