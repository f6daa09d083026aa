"""Training data of the stance heads: seed-article paragraph labels, pole statements, dev set."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from models.duplicates import describe, near_duplicates
from models.evaluate import load_labelled
from models.labels import LABEL_INDEX, LABELS
from models.language import detect_language

SEED_ARTICLE = "seed_article.txt"
SEED_LABELS = "seed_labels.jsonl"
POLES = "poles.jsonl"
DEV_SET = Path("stance-dev") / "passages.jsonl"


class TrainingDataError(ValueError):
    """A seed file is missing, malformed or inconsistent with the seed article."""


@dataclass(frozen=True)
class Example:
    """One training/evaluation text with its label, routing language, source and CV group."""

    ident: str
    text: str
    label: str
    lang: str
    source: str
    group: str
    report_lang: str = ""
    heads: tuple[str, ...] = ()

    def trains(self, head: str) -> bool:
        """True unless the example is restricted (``heads``) to heads other than ``head``."""
        return not self.heads or head in self.heads

    @property
    def language(self) -> str:
        """Language used in per-language reports: the file's own code if given, else detected."""
        return self.report_lang or self.lang


@dataclass(frozen=True)
class SeedLabel:
    """The hand label of one non-empty line (paragraph) of the seed article."""

    line: int
    label: str
    reason: str
    text: str


def text_hash(text: str) -> str:
    """Short SHA-256 of a text, used to recognise training passages later."""
    return hashlib.sha256(text.strip().encode("utf-8")).hexdigest()[:16]


def default_dev_path(seeds_dir: Path) -> Path | None:
    """The dev set under ``seeds_dir`` if it is present."""
    path = seeds_dir / DEV_SET
    return path if path.is_file() else None


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Decode a JSON-lines file, naming the first bad line."""
    if not path.is_file():
        raise TrainingDataError(f"missing seed file {path}")
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise TrainingDataError(f"{path} line {number}: not JSON ({exc.msg})") from None
        if not isinstance(row, dict):
            raise TrainingDataError(f"{path} line {number}: not a JSON object")
        rows.append(row)
    return rows


def _check_label(row: dict[str, Any], where: str) -> str:
    """Return the row's label or fail naming the row."""
    label = row.get("label")
    if label not in LABEL_INDEX:
        raise TrainingDataError(f"{where}: label {label!r} is not one of {', '.join(LABELS)}")
    return str(label)


def load_seed_labels(seeds_dir: Path) -> list[SeedLabel]:
    """Read seed_labels.jsonl and check it labels every non-empty line of the seed article once."""
    article = (seeds_dir / SEED_ARTICLE).read_text(encoding="utf-8").split("\n")
    wanted = {no: line.strip() for no, line in enumerate(article, 1) if line.strip()}
    labels: list[SeedLabel] = []
    for row in _read_jsonl(seeds_dir / SEED_LABELS):
        line = row.get("line")
        where = f"{SEED_LABELS} line-ref {line}"
        if not isinstance(line, int) or line not in wanted:
            raise TrainingDataError(f"{where}: not a non-empty line of {SEED_ARTICLE}")
        if row.get("text") != wanted.pop(line):
            raise TrainingDataError(f"{where}: text differs from the seed article")
        reason = row.get("reason")
        if not isinstance(reason, str) or not reason.strip():
            raise TrainingDataError(f"{where}: missing reason")
        labels.append(SeedLabel(line, _check_label(row, where), reason, str(row["text"])))
    if wanted:
        raise TrainingDataError(f"{SEED_LABELS}: seed article lines without a label: {sorted(wanted)}")
    return labels


def seed_examples(seeds_dir: Path) -> list[Example]:
    """Seed paragraphs as examples; a repeated paragraph (same text) is kept once."""
    seen: set[str] = set()
    out = []
    for item in load_seed_labels(seeds_dir):
        if item.text in seen:
            continue
        seen.add(item.text)
        lang = detect_language(item.text)
        out.append(Example(f"seed-{item.line}", item.text, item.label, lang, "seed", "seed-article"))
    return out


def pole_examples(seeds_dir: Path) -> list[Example]:
    """Pole statements (short texts per label in en/ko/zh); optional ``heads`` restricts who learns them."""
    out = []
    for row in _read_jsonl(seeds_dir / POLES):
        ident = str(row.get("id", ""))
        text = row.get("text")
        if not ident or not isinstance(text, str) or not text.strip():
            raise TrainingDataError(f"{POLES}: row {ident or '?'} needs an id and a text")
        label = _check_label(row, f"{POLES} {ident}")
        heads = _check_heads(row, f"{POLES} {ident}")
        out.append(Example(ident, text, label, detect_language(text), "pole", ident, heads=heads))
    return out


def _check_heads(row: dict[str, Any], where: str) -> tuple[str, ...]:
    """The row's optional ``heads`` list (names of heads that learn from it), checked."""
    from models.heads import HEADS

    heads = row.get("heads", [])
    known = [h.name for h in HEADS]
    if not isinstance(heads, list) or any(h not in known for h in heads):
        raise TrainingDataError(f"{where}: heads {heads!r} must be a list of {', '.join(known)}")
    return tuple(str(h) for h in heads)


def dev_examples(path: Path) -> list[Example]:
    """Dev-set passages; their CV group is the URL. Near-duplicate passages are refused."""
    passages = load_labelled(path)
    pairs = near_duplicates([(p.id, p.group, p.text) for p in passages])
    if pairs:
        raise TrainingDataError(f"{path}: near-duplicate passages (drop one of each): {describe(pairs)}")
    return [
        Example(p.id, p.text, p.label, detect_language(p.text), "dev", p.group, p.lang or "")
        for p in passages
    ]


def data_files(seeds_dir: Path, dev_path: Path | None) -> dict[str, Path]:
    """Every input file of a build, by role."""
    files = {
        "seed_article": seeds_dir / SEED_ARTICLE,
        "seed_labels": seeds_dir / SEED_LABELS,
        "poles": seeds_dir / POLES,
    }
    if dev_path is not None:
        files["dev"] = dev_path
    return files
