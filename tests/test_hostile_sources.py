"""Issue 27 item 9: a hostile sources.toml (100,000-deep array, control characters in a source's
name or URL, ...) is refused in one line naming the file and the source, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flows.cli.commands import main
from flows.ingest import sources
from tests.hostile.generate import HERE, large_sources_items

CORPUS = HERE / "sources"


def corpus() -> dict[str, tuple[str, str]]:
    """Every sources item: the committed files and the generated big ones."""
    reasons: dict[str, str] = json.loads((CORPUS / "reasons.json").read_text())
    items = {name: ((CORPUS / name).read_text(encoding="utf-8"), reason) for name, reason in reasons.items()}
    return items | large_sources_items()


def test_every_hostile_sources_file_gets_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for name, (text, reason) in corpus().items():
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        code = main(["sources", "check", str(path)])
        _, err = capsys.readouterr()
        if not reason:  # a valid file among the hostile ones
            assert code == 0 and err == "", (name, err)
            continue
        assert code == 2 and err.count("\n") == 1, (name, err[:2000])
        assert err.startswith(f"axiswatch: {path}") and reason in err, (name, err)


def test_a_sources_file_must_be_a_regular_file_within_the_limit(tmp_path: Path) -> None:
    big = tmp_path / "big.toml"
    with big.open("wb") as fh:
        fh.truncate(sources.MAX_BYTES + 1)
    with pytest.raises(sources.SourcesError, match="not a regular file within"):
        sources.load_sources(big)
    with pytest.raises(sources.SourcesError, match="not a regular file within"):
        sources.load_sources(tmp_path)
