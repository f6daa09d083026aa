"""`classify` never loses the stream: every line answered or reported with its number (issue 16)."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from flows.settings import PROJECT_ROOT, SEEDS_DIR
from models.classifier import StanceClassifier
from models.stream import MAX_TEXT_CHARS, classify_stream
from models.textclean import clean_text

PARAGRAPH = "Seoul must anchor itself to the US alliance while keeping trade with Beijing open. " * 6


@pytest.fixture(scope="module")
def model() -> StanceClassifier:
    return StanceClassifier.load()


def classify(model: StanceClassifier, data: bytes) -> tuple[int, list[dict[str, object]], str]:
    out, err = io.StringIO(), io.StringIO()
    bad = classify_stream(model, io.BytesIO(data), out, err)
    return bad, [json.loads(line) for line in out.getvalue().splitlines()], err.getvalue()


def test_hostile_lines_cost_only_themselves(model: StanceClassifier) -> None:
    article = "\n\n".join([PARAGRAPH] * 12)  # cut into passages, scored as an article
    lines = [
        json.dumps({"id": "ok", "text": "Seoul must anchor itself to the US alliance."}).encode(),
        b'{"id": "surrogate", "text": "\\ud800 Seoul hedges between Washington and Beijing"}',
        json.dumps({"id": "control", "text": "Seoul\x01\x02 tilts \x1b[31mtoward\x7f Beijing"}).encode(),
        json.dumps({"id": "nul", "text": "Seoul\x00 balances\x00 the two powers"}).encode(),
        b'{"id": "\\udcff-id", "text": "a lone surrogate in the id"}',
        b'{"id": "bad-utf8", "text": "\xff\xfe broken"}',
        json.dumps({"id": "only-nul", "text": "\x00\x00"}).encode(),
        json.dumps({"id": "article", "text": article}).encode(),
        b'{"id": "huge", "text": "' + b"x" * (5 * 1024 * 1024) + b'"}',
        json.dumps({"id": "last", "text": "China warns Seoul against joining US chip controls."}).encode(),
    ]
    bad, out, err = classify(model, b"\n".join(lines) + b"\n")
    ids = [row["id"] for row in out]
    assert ids == ["ok", "surrogate", "control", "nul", "\ufffd-id", "article", "last"]
    assert bad == 3 and err.count("\n") == 3
    assert "line 6: not UTF-8" in err and "line 7: no text" in err
    assert "line 9: line is over the" in err
    by_id = {row["id"]: row for row in out}
    assert by_id["article"]["passages"] > 1 and "confidence" in by_id["article"]
    assert by_id["ok"]["label"] in ("washington", "hedge", "beijing", "irrelevant")


def test_text_limit_is_stated_and_line_numbered(model: StanceClassifier) -> None:
    too_long = json.dumps({"id": "x", "text": "word " * (MAX_TEXT_CHARS // 5 + 1)}).encode()
    bad, out, err = classify(model, b"\n" + too_long + b"\n")
    assert bad == 1 and out == []
    assert err.startswith("axiswatch classify: line 2: text of ") and f"{MAX_TEXT_CHARS:,}-character" in err


def test_clean_text_removes_what_breaks_tokenizers() -> None:
    assert clean_text("a\ud800b\x00c\x07d\te\nf\u0085") == "a\ufffdbcd\te\nf"
    assert clean_text("한국 中国 Seoul") == "한국 中国 Seoul"


MEASURED_CLASSIFY = """
import resource, runpy, sys
sys.argv = ["axiswatch", "classify"]
try:
    runpy.run_module("flows.cli", run_name="__main__")
finally:
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss across exec, so a child spawned by a large
    # runner would report the runner's peak (2 GB late in the suite) as its own
    with open("/proc/self/status") as status:
        own = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    peak = max(own, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    sys.stderr.write(f"\\nMAXRSS {peak}\\n")
"""


@pytest.mark.slow
def test_five_megabyte_line_peak_rss_under_two_gib(tmp_path: Path) -> None:
    """The 5 MB line that took 206 s and 17.5 GB: refused with its line number, RSS bounded."""
    seed = (SEEDS_DIR / "seed_article.txt").read_text(encoding="utf-8")
    text = (seed + "\n\n") * (5 * 1024 * 1024 // len(seed.encode()) + 1)
    payload = (
        json.dumps({"id": "big", "text": text}) + "\n" + json.dumps({"id": "s", "text": seed[:500]}) + "\n"
    )
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", MEASURED_CLASSIFY],
        input=payload.encode(),
        capture_output=True,
        cwd=PROJECT_ROOT,
        timeout=600,
    )
    elapsed = time.monotonic() - started
    # this process's children include every earlier test's: the classify process reports its own peak
    peak_mib = int(done.stderr.rsplit(b"MAXRSS ", 1)[1].split()[0]) / 1024
    assert done.returncode == 1, done.stderr[-2000:]
    assert b"line 1: " in done.stderr and [json.loads(x)["id"] for x in done.stdout.splitlines()] == ["s"]
    assert peak_mib < 2048, f"peak RSS {peak_mib:.0f} MiB"
    print(f"5 MB line: {elapsed:.1f}s, peak RSS {peak_mib:.0f} MiB")
