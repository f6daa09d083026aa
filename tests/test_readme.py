"""The README and docs/ cannot drift: the settings table is the model's, commands and flags the parser's."""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass

import pytest

from flows.cli.commands import build_parser
from flows.settings import PROJECT_ROOT, Settings
from flows.tools.settings_doc import TABLE_BEGIN, TABLE_END, settings_table, with_settings_table

README = PROJECT_ROOT / "README.md"
DOCS = (README, *sorted((PROJECT_ROOT / "docs").glob("*.md")))
SETTINGS_PAGE = PROJECT_ROOT / "docs" / "sources-and-settings.md"
REGENERATE = ".venv/bin/python -m flows.tools.settings_doc --update docs/sources-and-settings.md"
FENCE = re.compile(r"^```[^\n]*\n(.*?)^```", re.S | re.M)
# `axiswatch` in command position: at the start (after a `$ ` prompt or a path such as
# .venv/bin/), or after a shell pipe / && / ;  (not `create axiswatch`, not `axiswatch.duckdb`)
COMMAND = re.compile(r"(?:^\s*(?:\$\s+)?(?:\S*/)?|[|;&]\s*)axiswatch(?![\w./-])(?P<rest>[^\n]*)", re.M)
END_OF_COMMAND = re.compile(r"(?<!\\)\||>|#|;|&&")
QUOTED = re.compile(r"\"[^\"\n]*(?:\"|$)|'[^'\n]*(?:'|$)", re.M)
FLAG = re.compile(r"(?<![\w-])(--?[A-Za-z][\w-]*)")


@dataclass(frozen=True)
class Invocation:
    """One `axiswatch ...` the README names: where, the words before the flags, and the flags."""

    where: str
    words: tuple[str, ...]
    flags: tuple[str, ...]


def readme() -> str:
    """The text of the README and every docs/ page."""
    return "\n\n".join(page.read_text(encoding="utf-8") for page in DOCS)


def settings_page() -> str:
    """The page that holds the generated settings table."""
    return SETTINGS_PAGE.read_text(encoding="utf-8")


def parse_invocation(rest: str, where: str) -> Invocation:
    """Split what follows `axiswatch` into subcommand words and flags (quoted text dropped)."""
    rest = QUOTED.sub(" ", END_OF_COMMAND.split(rest)[0])
    words = tuple(re.match(r"\s*((?:[a-z]+\s*)*)", rest)[1].split())  # type: ignore[index]
    return Invocation(where, words, tuple(FLAG.findall(rest)))


def commands_table(text: str) -> list[Invocation]:
    """Every invocation in the first column of the `| command | what it does |` table."""
    lines = text[text.index("| command | what it does |") :].splitlines()
    found = []
    for line in lines[2:]:
        if not line.startswith("|"):
            break
        cell = re.split(r"(?<!\\)\|", line)[1]
        for span in re.findall(r"`([^`]+)`", cell):
            rest = span.removeprefix("axiswatch")
            found.append(parse_invocation(rest, f"commands table: {span}"))
    return found


def named_invocations(text: str) -> list[Invocation]:
    """Every `axiswatch ...` in code blocks and inline code spans, plus the commands table."""
    blocks = FENCE.findall(text)
    prose = FENCE.sub("", text)
    spans = re.findall(r"`([^`]+)`", prose)
    found = commands_table(text)
    for source in [*blocks, *spans]:
        for match in COMMAND.finditer(source):
            invocation = parse_invocation(match["rest"], match[0].strip())
            if invocation.words or invocation.flags:
                found.append(invocation)
    return list({(inv.words, inv.flags): inv for inv in reversed(found)}.values())[::-1]


def subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """The subcommands of ``parser`` by name ({} when it has none)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def resolve(parser: argparse.ArgumentParser, inv: Invocation) -> argparse.ArgumentParser:
    """The (sub)parser an invocation's words lead to; fails naming the unknown word."""
    words = list(inv.words)
    assert words, f"README names `axiswatch` without a command: {inv.where}"
    while words and subparsers(parser):
        word = words.pop(0)
        assert word in subparsers(parser), f"README names unknown command {word!r}: {inv.where}"
        parser = subparsers(parser)[word]
    return parser


# --------------------------------------------------------------------------- settings


def test_settings_table_is_generated_from_the_model() -> None:
    text = settings_page()
    assert TABLE_BEGIN in text and TABLE_END in text, f"README lost its settings-table markers; {REGENERATE}"
    in_readme = text.split(TABLE_BEGIN)[1].split(TABLE_END)[0].strip()
    assert in_readme == settings_table(), (
        f"README's settings table differs from flows/settings.py; regenerate it: {REGENERATE}"
    )
    assert with_settings_table(text) == text, f"regenerate the table: {REGENERATE}"


def test_every_setting_is_documented_in_the_readme() -> None:
    table = settings_page().split(TABLE_BEGIN)[1].split(TABLE_END)[0]
    documented = re.findall(r"^\| `AXISWATCH_(\w+)` \|", table, re.M)
    assert [name.lower() for name in documented] == list(Settings.model_fields)
    assert len(documented) == len(Settings.model_fields) >= 35  # every one, no fewer than in issue 13


def test_every_setting_has_a_one_line_description() -> None:
    for name, field in Settings.model_fields.items():
        assert field.description and "\n" not in field.description, name
        assert "|" not in field.description, f"{name}: a pipe breaks the markdown table"


def test_table_rows_state_type_range_and_default() -> None:
    rows = {line.split("`")[1]: line for line in settings_table().splitlines()[2:]}
    assert rows["AXISWATCH_READ_TIMEOUT"].startswith("| `AXISWATCH_READ_TIMEOUT` | number > 0 | `10` |")
    assert "| integer ≥ 1 | `3` |" in rows["AXISWATCH_PAGE_ATTEMPTS"]
    assert "| number (0, 1] | `0.5` |" in rows["AXISWATCH_NEAR_DUPLICATE_RESEMBLANCE"]
    assert "| boolean | `true` |" in rows["AXISWATCH_OBEY_ROBOTS"]
    assert "| cron (5 fields) | `*/30 * * * *` |" in rows["AXISWATCH_PIPELINE_CRON"]
    assert "| IANA time zone | `Asia/Seoul` |" in rows["AXISWATCH_TIMEZONE"]
    assert "| path | `seeds/sources.toml` |" in rows["AXISWATCH_SOURCES_FILE"]
    assert "| `DATA_DIR/axiswatch.duckdb` |" in rows["AXISWATCH_DB_PATH"]


def test_a_changed_model_makes_the_drift_test_fail(monkeypatch: pytest.MonkeyPatch) -> None:
    text = readme()
    field = Settings.model_fields["read_timeout"]
    monkeypatch.setattr(field, "description", "something else")
    assert with_settings_table(text) != text


# --------------------------------------------------------------------------- commands and flags


def test_readme_names_commands_in_code_blocks_and_the_table() -> None:
    named = {inv.words[:2] for inv in named_invocations(readme()) if inv.words}
    assert {("run",), ("serve",), ("status",), ("report",), ("sql",), ("classify",)} <= named
    assert ("model", "build") in named and ("model", "eval") in named


@pytest.mark.parametrize("inv", named_invocations(readme()), ids=lambda inv: inv.where[:60])
def test_every_command_and_flag_the_readme_names_exists(inv: Invocation) -> None:
    parser = resolve(build_parser(), inv)
    known = set(parser._option_string_actions)
    unknown = [flag for flag in inv.flags if flag not in known]
    assert not unknown, f"README names {unknown} for `axiswatch {' '.join(inv.words)}` ({inv.where})"


def test_every_parser_command_is_in_the_commands_table() -> None:
    table = {inv.words for inv in commands_table(readme())}
    for name, sub in subparsers(build_parser()).items():
        nested = subparsers(sub)
        wanted = [(name, child) for child in nested] if nested else [(name,)]
        for words in wanted:
            assert any(named[: len(words)] == words for named in table), (
                f"`axiswatch {' '.join(words)}` is missing from README's commands table"
            )


def test_shared_flags_sentence_matches_the_parser() -> None:
    paragraphs = [" ".join(p.split()) for p in FENCE.sub("", readme()).split("\n\n")]
    claims = [p for p in paragraphs if re.search(r"\btakes? `--", p)]
    assert claims, "README should say which commands take the shared flags"
    parsers = subparsers(build_parser())
    for claim in claims:
        for clause in claim.split(";"):
            commands_part, _, flags_part = clause.partition(" take")
            commands = re.findall(r"`([a-z]+)`", commands_part)
            flags = FLAG.findall(" ".join(re.findall(r"`([^`]+)`", flags_part)))
            assert commands and flags, f"cannot read {clause!r}"
            for command in commands:
                missing = set(flags) - set(parsers[command]._option_string_actions)
                assert not missing, f"README says `{command}` takes {sorted(missing)}: {clause.strip()}"
