"""Settings: one pydantic-settings model; env parsing, ranges, one-line errors naming the variable."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

import flows.cli.commands as cli
from flows.settings import SEEDS_DIR, Settings, SettingsError, check_cron, check_timezone

AXISWATCH = Path(sys.executable).parent / "axiswatch"


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The current environment without AXISWATCH_* variables, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AXISWATCH_")}
    return env | {"AXISWATCH_DATA_DIR": str(tmp_path / "var")} | extra


def load_error(**env: str) -> str:
    """The SettingsError message of loading ``env``."""
    with pytest.raises(SettingsError) as caught:
        Settings.load(env=env)
    return str(caught.value)


# --------------------------------------------------------------------------- building


def test_defaults_need_no_environment() -> None:
    settings = Settings.load(env={})
    assert settings == Settings()
    assert len(Settings.model_fields) >= 35
    assert settings.sources_file == SEEDS_DIR / "sources.toml"
    assert settings.warehouse_path == Path("var/axiswatch.duckdb")
    assert settings.report_path == Path("var/reports") and settings.spool_dir == Path("var/spool")


def test_env_values_are_parsed_to_their_types() -> None:
    env = {
        "AXISWATCH_READ_TIMEOUT": "2.5",
        "AXISWATCH_RETRIES": "0",
        "AXISWATCH_OBEY_ROBOTS": "off",
        "AXISWATCH_DB_PATH": "/tmp/w.duckdb",
        "AXISWATCH_TIMEZONE": " UTC ",
        "AXISWATCH_REPORT_CRON": "0 6 * * mon",
        "AXISWATCH_MODEL_VERSION": "stance-1",
    }
    settings = Settings.load(env=env)
    assert settings.read_timeout == 2.5 and settings.retries == 0 and settings.obey_robots is False
    assert settings.warehouse_path == Path("/tmp/w.duckdb")
    assert settings.timezone == "UTC" and settings.report_cron == "0 6 * * mon"
    assert settings.model_version == "stance-1"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1", True), ("true", True), ("YES", True), ("on", True), ("0", False), ("False", False), ("no", False)],
)
def test_booleans_take_the_usual_spellings(raw: str, expected: bool) -> None:
    assert Settings.load(env={"AXISWATCH_OBEY_ROBOTS": raw}).obey_robots is expected


def test_tuples_come_from_comma_separated_strings() -> None:
    env = {"AXISWATCH_ALLOW_HOSTS": "127.0.0.1, localhost,,"}
    assert Settings.load(env=env).allow_hosts == ("127.0.0.1", "localhost")
    assert Settings.load(env={"AXISWATCH_ALLOW_HOSTS": "::1"}).allow_hosts == ("::1",)
    # flow parameters arrive as JSON lists
    assert Settings.load(env={}, allow_hosts=["a", "b"]).allow_hosts == ("a", "b")


def test_env_names_are_case_insensitive_and_empty_means_unset() -> None:
    settings = Settings.load(env={"axiswatch_batch_size": "7", "AXISWATCH_READ_TIMEOUT": ""})
    assert settings.batch_size == 7 and settings.read_timeout == 10.0


def test_overrides_beat_env_and_none_overrides_are_ignored() -> None:
    env = {"AXISWATCH_BATCH_SIZE": "7", "AXISWATCH_DATA_DIR": "/srv/x"}
    settings = Settings.load(env=env, batch_size=9, data_dir=None)
    assert settings.batch_size == 9 and settings.data_dir == Path("/srv/x")


def test_load_reads_the_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AXISWATCH_FETCH_WORKERS", "3")
    assert Settings.load().fetch_workers == 3
    assert Settings().fetch_workers == 8, "Settings() is defaults only; load() reads the environment"


def test_settings_are_frozen_and_hashable() -> None:
    settings = Settings.load(env={})
    with pytest.raises(ValidationError):
        settings.batch_size = 1  # type: ignore[misc]
    assert hash(settings) == hash(Settings.load(env={}))


def test_replace_validates_and_leaves_the_original_alone() -> None:
    base = Settings.load(env={}, db_path="/tmp/a.duckdb")
    changed = base.replace(batch_size="4", allow_hosts="127.0.0.1", db_path=None)
    assert changed.batch_size == 4 and changed.allow_hosts == ("127.0.0.1",) and changed.db_path is None
    assert base.batch_size == 64 and base.db_path == Path("/tmp/a.duckdb")
    with pytest.raises(SettingsError, match=r"^setting read_timeout: must be greater than 0 \(got -1\)$"):
        base.replace(read_timeout=-1)


def test_unknown_setting_names_list_the_valid_ones() -> None:
    with pytest.raises(SettingsError, match="unknown setting 'batchsize'; valid settings: data_dir, db_path"):
        Settings.load(env={}, batchsize=3)
    with pytest.raises(SettingsError, match="unknown setting 'timeout'"):
        Settings().replace(timeout=3)


def test_overrides_of_round_trips_through_flow_parameters(tmp_path: Path) -> None:
    settings = Settings.load(env={}, data_dir=tmp_path, allow_hosts="127.0.0.1", obey_robots="no")
    params = cli.overrides_of(settings)
    assert params == {"data_dir": str(tmp_path), "allow_hosts": ["127.0.0.1"], "obey_robots": False}
    assert Settings.load(env={}, **params) == settings


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("READ_TIMEOUT", "-1", "must be greater than 0"),
        ("CONNECT_TIMEOUT", "0", "must be greater than 0"),
        ("TOTAL_TIMEOUT", "soon", "must be a valid number"),
        ("RETRIES", "-1", "must be greater than or equal to 0"),
        ("PAGE_ATTEMPTS", "0", "must be greater than or equal to 1"),
        ("BATCH_SIZE", "1.5", "must be a valid integer"),
        ("NEAR_DUPLICATE_RESEMBLANCE", "0", "must be greater than 0"),
        ("NEAR_DUPLICATE_RESEMBLANCE", "1.5", "must be less than or equal to 1"),
        ("OBEY_ROBOTS", "ture", "must be true or false (also 1/0, yes/no, on/off)"),
        (
            "PIPELINE_CRON",
            "*/30 * * *",
            "must be a 5-field cron expression such as '0 7 * * 1': it has 4 fields",
        ),
        ("REPORT_CRON", "0 25 * * 1", "hour field '25' must stay within 0-23"),
        ("TIMEZONE", "Asia/Seol", "must be an IANA time zone name such as Asia/Seoul or UTC"),
        ("USER_AGENT", "  ", "must have at least 1 character"),
    ],
)
def test_a_bad_value_is_one_line_naming_the_variable(name: str, value: str, message: str) -> None:
    text = load_error(**{f"AXISWATCH_{name}": value})
    assert "\n" not in text
    assert text.startswith(f"AXISWATCH_{name}: must ") and message in text
    assert text.endswith(f"(got {value})")


def test_the_readme_example_error_is_exact() -> None:
    assert (
        load_error(AXISWATCH_READ_TIMEOUT="-1") == "AXISWATCH_READ_TIMEOUT: must be greater than 0 (got -1)"
    )


def test_several_bad_values_share_one_line() -> None:
    text = load_error(AXISWATCH_RETRIES="x", AXISWATCH_OBEY_ROBOTS="maybe")
    assert "\n" not in text and "AXISWATCH_RETRIES: " in text and "; AXISWATCH_OBEY_ROBOTS: " in text


def test_a_bad_override_names_the_setting_not_an_env_variable() -> None:
    with pytest.raises(
        SettingsError, match=r"^setting batch_size: must be greater than or equal to 1 \(got 0\)$"
    ):
        Settings.load(env={"AXISWATCH_BATCH_SIZE": "8"}, batch_size=0)


@pytest.mark.parametrize(
    "good", ["*/30 * * * *", "0 7 * * 1", "0 7 * * mon", "0 7 * jan-mar 1-5", "0 7 * * 7"]
)
def test_cron_strings_prefect_accepts_are_accepted(good: str) -> None:
    from prefect.client.schemas.schedules import CronSchedule

    assert check_cron(good) == good
    CronSchedule(cron=good)


@pytest.mark.parametrize("bad", ["0 7 * * 8", "0 25 * * *", "*/0 * * * *", "0 0 1 1 * 2026", "*/30 * * *"])
def test_cron_strings_prefect_rejects_are_rejected(bad: str) -> None:
    from prefect.client.schemas.schedules import CronSchedule

    with pytest.raises(ValueError, match="5-field cron"):
        check_cron(bad)
    with pytest.raises(ValidationError):
        CronSchedule(cron=bad)


def test_timezones_are_checked_with_zoneinfo() -> None:
    assert check_timezone("Asia/Seoul") == "Asia/Seoul" and check_timezone("UTC") == "UTC"
    for bad in ("Mars/Olympus", "../../etc/passwd", "Asia/"):
        with pytest.raises(ValueError, match="IANA time zone"):
            check_timezone(bad)


# --------------------------------------------------------------------------- the CLI


def test_cli_exits_2_with_one_line_for_a_bad_env_value(tmp_path: Path) -> None:
    env = clean_env(tmp_path, AXISWATCH_READ_TIMEOUT="-1")
    done = subprocess.run(
        [str(AXISWATCH), "status"], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr == "axiswatch: AXISWATCH_READ_TIMEOUT: must be greater than 0 (got -1)\n"
    assert done.stdout == "" and not (tmp_path / "var").exists()


@pytest.mark.parametrize(
    ("name", "value"), [("OBEY_ROBOTS", "ture"), ("TIMEZONE", "Seoul"), ("PIPELINE_CRON", "every 30 min")]
)
def test_cli_main_reports_bad_settings_in_one_line(
    name: str, value: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setenv("AXISWATCH_DATA_DIR", str(tmp_path))
    monkeypatch.setenv(f"AXISWATCH_{name}", value)
    assert cli.main(["status"]) == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert err.startswith(f"axiswatch: AXISWATCH_{name}: must ") and err.count("\n") == 1
    assert "Traceback" not in err
