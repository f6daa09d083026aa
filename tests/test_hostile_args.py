"""Command-line arguments that are not UTF-8 are one line, not a pybind11 traceback (issue 27, item 9).

The command lines are the corpus tests/hostile/args/argv.toml, decoded as Python decodes argv.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import pytest

from flows.cli.commands import main
from tests import damage

CORPUS = Path(__file__).parent / "hostile" / "args" / "argv.toml"


def corpus() -> dict[str, list[str]]:
    """Each command line of the corpus as the CLI receives it (surrogateescape'd str)."""
    with CORPUS.open("rb") as fh:
        entries = tomllib.load(fh)["argv"]
    return {e["name"]: [os.fsdecode(bytes.fromhex(arg)) for arg in e["hex"]] for e in entries}


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse with a search index, so the query would reach DuckDB."""
    return damage.base_warehouse(tmp_path_factory.mktemp("args") / "w.duckdb")


@pytest.mark.parametrize("name", sorted(corpus()))
def test_non_utf8_argument_is_one_line(
    warehouse: Path, name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = corpus()[name]
    code = main([*argv, "--db", str(warehouse)])
    out, err = capsys.readouterr()
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in out + err, err
    assert "is not valid UTF-8 (byte 0x" in err and "give it as UTF-8 text" in err
