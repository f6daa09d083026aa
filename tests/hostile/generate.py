"""The hostile-input corpus: small items are committed files written by this script; large ones
(200,000 brackets, a 300 MB spool file) and special files (FIFO, symlink, directory, device) are
made at test time by the functions below, never committed.

Run ``python -m tests.hostile.generate`` to rewrite the committed small items.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
T0 = "2026-11-30T12:00:00+00:00"
SYNC = {"op": "sync_sources", "args": [[], {"$datetime": T0}]}


def spool_doc(ops: list[Any], version: Any = 1) -> bytes:
    """A spool file's bytes around ``ops``."""
    doc = {"format": "axiswatch-spool", "version": version, "created_at": T0, "ops": ops}
    return json.dumps(doc).encode()


def _tagged(value: Any) -> bytes:
    """A spool file whose one write carries ``value`` as its time argument."""
    return spool_doc([{"op": "sync_sources", "args": [[], value]}])


def small_spool_items() -> dict[str, tuple[bytes, str]]:
    """name -> (bytes, text the quarantine reason must hold) of every committed spool item."""
    items = {
        "timedelta-overflow": (_tagged({"$timedelta": [10**12, 0, 0]}), "bad timedelta value"),
        "timedelta-seconds": (_tagged({"$timedelta": [0, 10**15, 0]}), "bad timedelta value"),
        "timedelta-types": (_tagged({"$timedelta": ["1", 0, 0]}), "bad timedelta value"),
        "timedelta-short": (_tagged({"$timedelta": [1]}), "bad timedelta value"),
        "huge-int": (
            b'{"format":"axiswatch-spool","version":1,"ops":[{"op":"sync_sources","args":[[],'
            + b"9" * 5000
            + b"]}]}",
            "is out of range",
        ),
        "int-over-uint64": (_tagged(2**64), "is out of range"),
        "nan": (
            b'{"format":"axiswatch-spool","version":1,"ops":[{"op":"sync_sources","args":[[],NaN]}]}',
            "NaN is not a JSON number",
        ),
        "infinity": (
            b'{"format":"axiswatch-spool","version":1,"ops":[{"op":"sync_sources","args":[[],-Infinity]}]}',
            "-Infinity is not a JSON number",
        ),
        "float-overflow": (
            b'{"format":"axiswatch-spool","version":1,"ops":[{"op":"sync_sources","args":[[],1e999]}]}',
            "out of range",
        ),
        "float-tag-bad": (_tagged({"$float": "1e999"}), "bad float value"),
        "bad-date": (_tagged({"$date": "2026-13-45"}), "bad date value"),
        "bad-datetime": (_tagged({"$datetime": "yesterday"}), "bad datetime value"),
        "datetime-not-string": (_tagged({"$datetime": 12}), "bad datetime value"),
        "bad-zone": (_tagged({"$datetime": T0, "tz": "../../etc/passwd"}), "bad datetime value"),
        "bad-bytes": (_tagged({"$bytes": "!!!"}), "bad bytes value"),
        "tuple-not-list": (_tagged({"$tuple": "abc"}), "bad tuple value"),
        "dict-unhashable": (_tagged({"$dict": [[[1], 2]]}), "bad dict value"),
        "dict-not-pairs": (_tagged({"$dict": [[1, 2, 3]]}), "bad dict value"),
        "record-unknown": (_tagged({"$record": "rm_rf", "fields": {}}), "unknown record type"),
        "record-fields": (_tagged({"$record": "poll_record", "fields": [1]}), "bad record value"),
        "unknown-tag": (_tagged({"$eval": "1"}), "unknown value tag(s) $eval"),
        "two-tags": (_tagged({"$date": "2026-01-01", "$bytes": ""}), "unknown value tag(s)"),
        "wrong-arg-type": (_tagged("not a time"), "sync_sources (write 1 of 1) failed"),
        "ops-not-list": (spool_doc([])[:-3] + b'"x"}', '"ops" is not a list'),
        "op-not-object": (spool_doc([7]), "write 1 is not"),
        "truncated": (spool_doc([SYNC])[:50], "not a JSON spool file"),
        "invalid-utf8": (spool_doc([SYNC]).replace(b"sync_sources", b"sync_\xff\xfe"), "not UTF-8"),
        "wrong-version": (spool_doc([SYNC], version=99), "unknown spool version 99"),
        "unknown-operation": (spool_doc([{"op": "drop_everything", "args": []}]), "unknown operation"),
        "not-a-spool": (b'{"hello": "world"}', "not an axiswatch-spool file"),
        "empty": (b"", "not a JSON spool file"),
        "deep-object": (b'{"a":' * 100 + b"1" + b"}" * 100, "nested 100 levels deep"),
    }
    return items


def write_small_items() -> None:
    """Rewrite the committed spool items and their expected reasons."""
    directory = HERE / "spool"
    directory.mkdir(exist_ok=True)
    reasons = {}
    for name, (data, reason) in small_spool_items().items():
        (directory / f"{name}.spool").write_bytes(data)
        reasons[f"{name}.spool"] = reason
    (directory / "reasons.json").write_text(json.dumps(reasons, indent=1, ensure_ascii=False) + "\n")


def small_classify_items() -> dict[str, tuple[bytes, str]]:
    """name -> (one input line, text its per-line error must hold) of the committed classify items."""
    text = b'"text": "Seoul hedges between Washington and Beijing."'
    return {
        "nan-id": (b'{"id": NaN, ' + text + b"}", "NaN is not a JSON number"),
        "infinity-id": (b'{"id": Infinity, ' + text + b"}", "Infinity is not a JSON number"),
        "minus-infinity-in-list": (b'{"id": [1, -Infinity], ' + text + b"}", "-Infinity is not"),
        "float-overflow-id": (b'{"id": 1e999, ' + text + b"}", "1e999 is out of range"),
        "huge-int-id": (b'{"id": ' + b"7" * 5000 + b", " + text + b"}", "is out of range"),
        "deep-id": (b'{"id": ' + b"[" * 40 + b"]" * 40 + b", " + text + b"}", "nested 41 levels deep"),
        "vt-ff": (b"\x0b\x0c", "a line of only whitespace (\\x0b\\x0c)"),
        "unicode-spaces": ("\u2028\u3000\u00a0\u1680".encode(), "a line of only whitespace"),
        "separators": (b"\x1c\x1d\x1e\x1f", "a line of only whitespace"),
        "nel": ("\u0085".encode(), "a line of only whitespace"),
        "truncated": (b'{"id": "t", "text": "Seoul', "not JSON"),
        "not-object": (b'["Seoul hedges"]', "not a JSON object"),
    }


def write_classify_items() -> None:
    """Rewrite the committed classify items (one line per file) and their expected errors."""
    directory = HERE / "classify"
    directory.mkdir(exist_ok=True)
    reasons = {}
    for name, (line, reason) in small_classify_items().items():
        (directory / f"{name}.line").write_bytes(line)
        reasons[f"{name}.line"] = reason
    (directory / "reasons.json").write_text(json.dumps(reasons, indent=1, ensure_ascii=False) + "\n")


def large_classify_items() -> dict[str, tuple[bytes, str]]:
    """The big classify lines, made at test time: name -> (line, expected error text)."""
    return {
        "brackets-200k": (b"[" * 200_000, "nested 200,000 levels deep"),
        "nested-id-200k": (
            b'{"id": ' + b'{"a": ' * 40_000 + b"1" + b"}" * 40_000 + b', "text": "x"}',
            "levels deep",
        ),
    }


SOURCE = """[[sources]]
id = "{id}"
name = "{name}"
feed_url = "{url}"
country = "KR"
language = "ko"
kind = "newspaper"
"""


def _source(id: str = "hankyoreh", name: str = "Hankyoreh", url: str = "https://h.example/rss") -> str:
    """One [[sources]] table (strings given as TOML escapes)."""
    return SOURCE.format(id=id, name=name, url=url)


def small_sources_items() -> dict[str, tuple[str, str]]:
    """name -> (sources.toml text, text the one-line error must hold) of the committed items."""
    return {
        "nul-in-name": (
            _source(name="Han\\u0000kyoreh"),
            "source 'hankyoreh': name holds a control character (U+0000)",
        ),
        "esc-in-name": (_source(name="Han\\u001b[31mkyoreh"), "name holds a control character (U+001B)"),
        "del-in-name": (_source(name="Han\\u007fkyoreh"), "name holds a control character (U+007F)"),
        "c1-in-name": (_source(name="Han\\u0085kyoreh"), "name holds a control character (U+0085)"),
        "nul-in-url": (
            _source(url="https://h.example/\\u0000rss"),
            "source 'hankyoreh': feed_url holds a control",
        ),
        "newline-in-id": (_source(id="hankyoreh\\n"), "id holds a control character (U+000A)"),
        "tab-in-country": (_source().replace('"KR"', '"K\\tR"'), "country holds a control character"),
        "deep-array": ("x = " + "[" * 40 + "]" * 40 + "\n" + _source(), "nested 40 levels deep"),
        "deep-inline-table": (
            "x = " + "{a = " * 30 + "1" + "}" * 30 + "\n" + _source(),
            "nested 30 levels deep",
        ),
    }


def write_sources_items() -> None:
    """Rewrite the committed sources items and their expected errors."""
    directory = HERE / "sources"
    directory.mkdir(exist_ok=True)
    reasons = {}
    for name, (text, reason) in small_sources_items().items():
        (directory / f"{name}.toml").write_text(text, encoding="utf-8")
        reasons[f"{name}.toml"] = reason
    (directory / "reasons.json").write_text(json.dumps(reasons, indent=1, ensure_ascii=False) + "\n")


def large_sources_items() -> dict[str, tuple[str, str]]:
    """The big sources texts, made at test time: name -> (text, expected error text)."""
    return {
        "array-100k": ("x = " + "[" * 100_000 + "\n", "nested 100,000 levels deep"),
        "brackets-in-strings": (_source(name="[" * 100_000), ""),  # valid: brackets inside a string
    }


def large_spool_items(directory: Path) -> dict[str, str]:
    """Make the big and special spool entries in ``directory``; name -> expected reason text."""
    expected = {"deep-brackets.spool": "nested 200,000 levels deep", "huge.spool": "too large"}
    (directory / "deep-brackets.spool").write_bytes(b"[" * 200_000)
    with (directory / "huge.spool").open("wb") as fh:
        fh.truncate(300 * 1024 * 1024)  # sparse: 300 MB by size, no disk used
    os.mkfifo(directory / "fifo.spool")
    expected["fifo.spool"] = "not a regular file (a FIFO)"
    (directory / "link.spool").symlink_to(HERE / "spool" / "truncated.spool")
    expected["link.spool"] = "not a regular file (a symbolic link)"
    (directory / "dir.spool").mkdir()
    expected["dir.spool"] = "not a regular file (a directory)"
    if os.geteuid() == 0:
        os.mknod(directory / "device.spool", stat.S_IFCHR | 0o600, os.makedev(1, 3))
        expected["device.spool"] = "not a regular file (a character device)"
    return expected


if __name__ == "__main__":
    write_small_items()
    write_classify_items()
    write_sources_items()
