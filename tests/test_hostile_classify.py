"""Issue 27 item 4: every hostile classify line gets its own per-line error; every other line is
answered, in order, as strict JSON (no NaN or Infinity ever written)."""

from __future__ import annotations

import json

from models.classifier import StanceClassifier
from tests.hostile.generate import HERE, large_classify_items
from tests.test_classify_stream import classify, model

__all__ = ["model"]  # the module-scoped fixture, shared with test_classify_stream
CORPUS = HERE / "classify"


def corpus() -> dict[str, tuple[bytes, str]]:
    """Every classify item: the committed lines and the generated big ones."""
    reasons: dict[str, str] = json.loads((CORPUS / "reasons.json").read_text())
    items = {name: ((CORPUS / name).read_bytes(), reason) for name, reason in reasons.items()}
    return items | large_classify_items()


def _strict(name: str) -> object:
    raise AssertionError(f"{name} in the output")


def test_every_hostile_line_is_reported_and_every_other_line_answered(model: StanceClassifier) -> None:
    items = corpus()
    lines = []
    for n, (line, _) in enumerate(items.values()):
        lines += [
            json.dumps({"id": f"good-{n}", "text": "Seoul anchors itself to the US alliance."}).encode(),
            line,
        ]
    lines.append(
        json.dumps({"id": "last", "text": "China warns Seoul against joining US chip controls."}).encode()
    )
    out_text = classify_raw(model, b"\n".join(lines) + b"\n")
    bad, answers, err = out_text
    assert [a["id"] for a in answers] == [f"good-{n}" for n in range(len(items))] + ["last"]
    assert bad == len(items) and err.count("\n") == len(items)
    for n, (name, (_, reason)) in enumerate(items.items()):
        line = next(x for x in err.splitlines() if x.startswith(f"axiswatch classify: line {2 * n + 2}: "))
        assert reason in line, (name, line)
        assert len(line) < 300 and "Traceback" not in err


def classify_raw(model: StanceClassifier, data: bytes) -> tuple[int, list[dict[str, object]], str]:
    """classify(), with the output parsed as strict JSON (NaN or Infinity fails the test)."""
    bad, answers, err = classify(model, data)
    for answer in answers:
        json.loads(json.dumps(answer), parse_constant=_strict)
    return bad, answers, err


def test_a_blank_line_is_still_skipped_silently(model: StanceClassifier) -> None:
    text = json.dumps({"id": 1, "text": "Seoul hedges between the two powers."}).encode()
    bad, answers, err = classify(model, text + b"\n\n \t\r\n" + text + b"\n")
    assert bad == 0 and err == "" and [a["id"] for a in answers] == [1, 1]
