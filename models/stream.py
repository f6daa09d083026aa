"""`axiswatch classify` over a stream: every input line is answered on stdout or reported on stderr.

Lines are read as bytes and decoded one at a time, so bad UTF-8 costs one line, not the
stream. Text is cleaned (lone surrogates → U+FFFD, NUL and control characters removed). A
text that segments into one passage is classified as a passage; a longer one is cut into
passages as articles are and scored as an article (``"passages": n`` in its answer). A line
over ``MAX_LINE_BYTES`` or a text over ``MAX_TEXT_CHARS`` is refused with its line number,
without being parsed, which bounds memory; so is a line nested deeper than ``MAX_DEPTH``
(measured before parsing), one holding NaN, Infinity or an out-of-range number (the output
stays strict JSON), and a line of only whitespace other than an empty line. A batch the
model fails on is retried line by line so one bad line cannot take its neighbours down.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, Any, TextIO

from models.classifier import StanceClassifier
from models.passages import segment
from models.textclean import clean_text
from warehouse.jsonbound import JSONBoundError
from warehouse.jsonbound import loads as bounded_loads

MAX_TEXT_CHARS = 200_000  # about 30,000 words: far beyond any article; scored as an article
MAX_LINE_BYTES = 4 * MAX_TEXT_CHARS + 65_536  # UTF-8 worst case plus room for the id and JSON
BATCH = 64
MAX_DEPTH = 32  # {"id", "text"} needs 1; an id may nest a little
BLANK = b" \t\r\n"  # JSON's own whitespace: a line of only these is skipped silently


@dataclass(frozen=True)
class Line:
    """One usable input line: its number, id and cleaned text."""

    number: int
    ident: Any
    text: str


def _clean_id(ident: Any) -> Any:
    """The id as given, with a string id cleaned so it can be written back as UTF-8."""
    return clean_text(ident) if isinstance(ident, str) else ident


def parse_line(raw: bytes) -> tuple[Any, str]:
    """Decode one input line into (id, cleaned text) or raise ValueError with the reason."""
    if len(raw) > MAX_LINE_BYTES:
        raise ValueError(f"line of {len(raw):,} bytes is over the {MAX_LINE_BYTES:,}-byte limit")
    try:
        row = bounded_loads(raw, MAX_DEPTH)
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 ({exc.reason} at byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise ValueError(_not_json(raw, exc.msg)) from None
    except JSONBoundError as exc:
        raise ValueError(f"not strict JSON ({exc})") from None
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"not JSON ({exc})") from None
    if not isinstance(row, dict):
        raise ValueError("not a JSON object")
    text = row.get("text")
    if not isinstance(text, str) or not clean_text(text).strip():
        raise ValueError("no text (need a non-empty string field 'text')")
    if len(text) > MAX_TEXT_CHARS:
        raise ValueError(f"text of {len(text):,} characters is over the {MAX_TEXT_CHARS:,}-character limit")
    return _clean_id(row.get("id")), clean_text(text)


def _not_json(raw: bytes, msg: str) -> str:
    """The reason a line is not JSON, naming whitespace-only lines as such."""
    text = raw.decode("utf-8")
    if not text.strip():
        return f"a line of only whitespace ({ascii(text.rstrip(chr(10)))[1:-1]}), not a JSON object"
    return f"not JSON ({msg})"


def _lines(stream: IO[bytes]) -> Iterator[tuple[int, bytes | None]]:
    """(number, raw line) pairs; an over-long line is skipped in chunks and given as None."""
    number = 0
    while True:
        raw = stream.readline(MAX_LINE_BYTES + 1)
        if not raw:
            return
        number += 1
        if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
            while (rest := stream.readline(1 << 20)) and not rest.endswith(b"\n"):
                pass
            yield number, None
            continue
        yield number, raw


def read_lines(stream: IO[bytes], report: Any) -> Iterator[Line]:
    """Usable lines; every bad one is passed to ``report(number, reason)``; blank lines are skipped."""
    for number, raw in _lines(stream):
        if raw is None:
            report(number, f"line is over the {MAX_LINE_BYTES:,}-byte limit")
            continue
        if not raw.strip(BLANK):
            continue
        try:
            ident, text = parse_line(raw)
        except ValueError as exc:
            report(number, str(exc))
            continue
        yield Line(number, ident, text)


def _answer(line: Line, pred: Any, passages: int = 1) -> dict[str, Any]:
    """The output record of one line."""
    record = {"id": line.ident, "label": pred.label, "probs": pred.probs, "score": pred.score}
    voice = {"voice": pred.voice} if hasattr(pred, "voice") else {}
    return {**record, "language": pred.language, **voice, **({"passages": passages} if passages > 1 else {})}


def _article_answer(model: StanceClassifier, line: Line) -> dict[str, Any]:
    """Score a long text as an article: label, stance probabilities, score and passage count."""
    result = model.score_article(line.text)
    art = result.article
    languages = [p.language for p in result.predictions]
    return {
        "id": line.ident,
        "label": art.label,
        "score": art.score,
        "confidence": art.confidence,
        "relevant_share": art.relevant_share,
        "language": max(set(languages), key=languages.count) if languages else None,
        "passages": len(result.passages),
    }


def answer_batch(model: StanceClassifier, lines: list[Line], report: Any) -> Iterator[str]:
    """JSON answers for a batch in input order; a line the model fails on is reported, the rest answered."""
    short = [ln for ln in lines if len(segment(ln.text)) <= 1]
    short_numbers = {ln.number for ln in short}
    try:
        preds = dict(zip((ln.number for ln in short), model.predict([ln.text for ln in short]), strict=True))
    except Exception:
        preds = {}
    for line in lines:
        try:
            if line.number in short_numbers:
                pred = preds.get(line.number) or model.predict(line.text)
                yield _strict_json(_answer(line, pred))
            else:
                yield _strict_json(_article_answer(model, line))
        except Exception as exc:
            report(line.number, f"could not classify ({type(exc).__name__}: {exc})")


def classify_stream(
    model: StanceClassifier,
    stream: IO[bytes],
    out: TextIO,
    err: TextIO,
    tick: Callable[[int], None] | None = None,
) -> int:
    """Classify every line of ``stream``; return how many lines were reported on ``err``;
    ``tick(n)`` after every batch of n lines (the caller's progress display)."""
    bad = 0

    def report(number: int, reason: str) -> None:
        nonlocal bad
        bad += 1
        err.write(f"axiswatch classify: line {number}: {reason}; skipped\n")
        err.flush()

    batch: list[Line] = []
    for line in read_lines(stream, report):
        batch.append(line)
        if len(batch) >= BATCH:
            _emit(out, answer_batch(model, batch, report))
            if tick is not None:
                tick(len(batch))
            batch = []
    _emit(out, answer_batch(model, batch, report))
    if tick is not None:
        tick(len(batch))
    return bad


def _strict_json(record: dict[str, Any]) -> str:
    """One answer as strict JSON (ValueError on NaN or Infinity, never written)."""
    return json.dumps(record, ensure_ascii=False, allow_nan=False)


def _emit(out: TextIO, answers: Iterator[str]) -> None:
    """Write JSON lines and flush."""
    for answer in answers:
        out.write(answer + "\n")
    out.flush()
