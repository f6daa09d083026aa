"""User-built model versions live in the data directory's registry (DATA_DIR/models), never in the
source tree: `model build --with-labels` writes there and says what changes and how to roll back;
`model use VERSION|--committed` switches; scoring finds the version there first."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from flows.cli.commands import main
from flows.score.stage import locate, registry_dir
from flows.settings import Settings
from models.registry import ARTIFACTS_DIR, LATEST, list_versions

COMMITTED = (ARTIFACTS_DIR / LATEST).read_text(encoding="utf-8").strip()
OLDER = next(v for v in reversed(list_versions(ARTIFACTS_DIR)) if v != COMMITTED)


def copy_version(version: str, into: Path) -> None:
    """The files of a committed version, copied into another directory."""
    into.mkdir(parents=True, exist_ok=True)
    for suffix in (".npz", ".card.json", ".card.md"):
        shutil.copy(ARTIFACTS_DIR / f"{version}{suffix}", into / f"{version}{suffix}")


def test_model_use_switches_and_the_committed_tree_is_untouched(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings.load(env={}, data_dir=tmp_path)
    committed_latest = (ARTIFACTS_DIR / LATEST).read_bytes()
    assert locate(settings) == (COMMITTED, ARTIFACTS_DIR)
    assert main(["model", "use", OLDER, "--data-dir", str(tmp_path)]) == 0
    assert f"new articles are scored with {OLDER}" in capsys.readouterr().out
    assert (tmp_path / "models" / LATEST).read_text().strip() == OLDER
    assert locate(settings) == (OLDER, ARTIFACTS_DIR)
    copy_version(OLDER, registry_dir(settings))  # a user-built version in the registry wins
    assert locate(settings) == (OLDER, registry_dir(settings))
    assert main(["model", "use", "stance-000000000000", "--data-dir", str(tmp_path)]) == 1
    assert "not found" in capsys.readouterr().err
    assert main(["model", "use", "--committed", "--data-dir", str(tmp_path)]) == 0
    assert locate(settings) == (COMMITTED, ARTIFACTS_DIR) and not (tmp_path / "models" / LATEST).exists()
    assert (ARTIFACTS_DIR / LATEST).read_bytes() == committed_latest


def test_build_with_labels_writes_the_registry_and_says_how_to_roll_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import models.labelled

    written: list[Path] = []

    def fake_build(out: Path, config: Any, **kwargs: Any) -> str:  # the real one takes minutes
        copy_version(OLDER, out)
        (out / LATEST).write_text(OLDER + "\n", encoding="utf-8")
        written.append(out)
        return OLDER

    monkeypatch.setattr(models.labelled, "build_with_labels", fake_build)
    labels = tmp_path / "labels.jsonl"
    labels.write_text("", encoding="utf-8")
    committed_latest = (ARTIFACTS_DIR / LATEST).read_bytes()
    assert main(["model", "build", "--with-labels", str(labels), "--data-dir", str(tmp_path)]) == 0
    out, err = capsys.readouterr()
    registry = tmp_path / "models"
    assert written == [registry] and (ARTIFACTS_DIR / LATEST).read_bytes() == committed_latest
    assert f"into {registry}" in err and "several minutes" in err
    assert f"built {OLDER}" in out and f"under {registry}" in out
    assert f"what changes: {registry / LATEST} names {OLDER}" in out and f"(before: {COMMITTED})" in out
    assert f"roll back: axiswatch model use {COMMITTED}" in out
    assert locate(Settings.load(env={}, data_dir=tmp_path)) == (OLDER, registry)
