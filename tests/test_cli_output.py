"""Honest command output: tables never cut a value and align wide characters, every `--json` is
strict JSON, report arguments fail before Prefect starts, hints fit the settings in force."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

import flows.cli.texttable as texttable
from flows.cli.commands import build_parser, main
from flows.cli.jsonout import dumps
from tests.serve_harness import BIN, clean_env
from tests.test_sql import warehouse  # noqa: F401  (fixture)

LONG = "Seoul weighs its alliance with Washington against its trade with Beijing " * 3


def sql(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["sql", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_long_cell_wraps_and_nothing_is_cut(warehouse: Path, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    code, out, _ = sql(capsys, "--db", str(warehouse), f"SELECT 'x' AS k, '{LONG.strip()}' AS v")
    assert code == 0
    lines = out.splitlines()
    assert all(texttable.display_width(line) <= 1 + 2 + 60 for line in lines[:-1])
    body = " ".join(line[3:].strip() for line in lines[2:-1])
    assert body == LONG.strip()  # every word is there, in order
    assert lines[-1] == "(1 row; long cells wrapped at 60 columns)"
    code, out, _ = sql(capsys, "--db", str(warehouse), "--max-width", "0", f"SELECT '{LONG.strip()}' AS v")
    assert LONG.strip() in out.splitlines()


def test_wide_characters_count_twice(warehouse: Path, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    query = "SELECT * FROM (VALUES ('한국 외교', 1), ('abc', 2)) t(name, n)"
    _, out, _ = sql(capsys, "--db", str(warehouse), query)
    _, rule, korean, latin, _ = out.splitlines()
    assert texttable.display_width("한국 외교") == 9
    assert rule == "-" * 9 + "  " + "-"
    assert korean == "한국 외교  1" and latin == "abc        2"  # columns line up on screen


def test_wrap_breaks_inside_an_over_long_word_and_keeps_line_breaks() -> None:
    assert texttable.wrap("가나다라마", 4) == ["가나", "다라", "마"]
    assert texttable.wrap("one\ntwo three", 5) == ["one", "two", "three"]


def test_json_is_strict(warehouse: Path, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    query = "SELECT 'nan'::DOUBLE AS a, 'inf'::DOUBLE AS b, '-inf'::DOUBLE AS c, 1.5 AS d"
    code, out, _ = sql(capsys, "--db", str(warehouse), "--format", "json", query)
    assert code == 0 and json.loads(out, parse_constant=_refuse) == [
        {"a": None, "b": None, "c": None, "d": 1.5}
    ]
    assert dumps({"x": [float("nan"), {"y": float("-inf")}]}) == '{"x": [null, {"y": null}]}'


def _refuse(name: str) -> None:
    raise AssertionError(f"{name} in JSON output")


def test_every_command_that_takes_json_implements_it() -> None:
    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    takes_json = sorted(n for n, p in commands.items() if any(a.dest == "json" for a in p._actions))
    assert "serve" not in takes_json and "demo" not in takes_json
    assert set(takes_json) == {"bench", "ingest", "report", "run", "score", "search", "sql", "status"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--week", "2026-48"], "axiswatch: report: week '2026-48' is not an ISO week like 2026-W48\n"),
        (["--week", "2026-W54"], "axiswatch: report: week '2026-W54' does not exist"),
        (["--weeks", "0"], "axiswatch: report: weeks must be between 1 and 104, not 0\n"),
        (["--week", "2030-W01"], "axiswatch: report: week 2030-W01 has not begun yet (the current week is "),
    ],
)
def test_report_arguments_fail_before_prefect_with_one_line(
    tmp_path: Path, args: list[str], message: str
) -> None:
    env = clean_env(tmp_path)
    done = subprocess.run(
        [str(BIN / "axiswatch"), "report", *args], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith(message) and done.stderr.count("\n") == 1
    assert not (tmp_path / "var" / "prefect").exists()  # Prefect never started


def test_report_out_that_is_a_file_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "f").write_text("")
    assert main(["report", "--data-dir", str(tmp_path), "--out", str(tmp_path / "f")]) == 2
    assert (
        capsys.readouterr().err == f"axiswatch: report: --out {tmp_path / 'f'} is a file, not a directory\n"
    )


def test_missing_warehouse_hint_fits_the_settings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["status", "--data-dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err == (
        f"axiswatch status: no warehouse at {tmp_path / 'axiswatch.duckdb'}; "
        f"`axiswatch run --data-dir {tmp_path}` creates it\n"
    )
    (tmp_path / "demo").mkdir()
    (tmp_path / "demo" / "axiswatch.duckdb").write_bytes(b"")
    assert main(["sql", "--data-dir", str(tmp_path), "SELECT 1"]) == 1
    demo = tmp_path / "demo"
    hint = f"(the demo's warehouse is {demo / 'axiswatch.duckdb'}: add --data-dir {demo})"
    assert hint in capsys.readouterr().err


def test_top_level_help_describes_the_product(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert "South Korea" in out and "Washington" in out and "Beijing" in out
    assert "parses arguments" not in out


def test_demo_help_names_the_demo_data_dir(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["demo", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "DATA_DIR/demo (default ./var/demo)" in text and "DATA_DIR/demo/axiswatch.duckdb" in text
