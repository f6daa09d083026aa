"""One Settings object, built once from defaults, the environment (AXISWATCH_*) and CLI flags.

The model below is the single declaration of every setting (type, range, default, a one-line
description); docs/sources-and-settings.md's table is generated from it (flows/tools/settings_doc.py).
Nothing else in the project reads ``os.environ`` for axiswatch settings.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, Field, JsonValue, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)
from pydantic_settings import SettingsError as SourceError

from flows.orchestration.cron import check_cron
from warehouse.lake import S3, Lake
from warehouse.lake import parse as parse_warehouse

if TYPE_CHECKING:
    from warehouse.sink import Sink

ENV_PREFIX = "AXISWATCH_"
PROJECT_ROOT = Path(__file__).resolve().parent.parent


def find_seeds_dir() -> Path:
    """seeds/ of the source checkout, else ./seeds (an installed package, e.g. /app in the image)."""
    here = PROJECT_ROOT / "seeds"
    return here if here.is_dir() else Path.cwd() / "seeds"


SEEDS_DIR = find_seeds_dir()


class SettingsError(ValueError):
    """A setting has a value that cannot be used (the message is one line naming it)."""


def check_timezone(name: str) -> str:
    """An IANA time zone name that zoneinfo knows (e.g. Asia/Seoul, UTC)."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("must be an IANA time zone name such as Asia/Seoul or UTC") from None
    return name


def check_warehouse(spec: str) -> str:
    """``duckdb:PATH`` or ``ducklake:postgres:<conninfo with dbname=>``."""
    parse_warehouse(spec, "s3://placeholder-checked-later/")
    return spec


Cron = Annotated[str, AfterValidator(check_cron)]
TimeZone = Annotated[str, AfterValidator(check_timezone)]
Hosts = Annotated[tuple[str, ...], NoDecode]
BETTER_MESSAGES = {"must be a valid boolean": "must be true or false (also 1/0, yes/no, on/off)"}
KIND_OF = {check_cron: "cron (5 fields)", check_timezone: "IANA time zone"}


def setting(default: Any, description: str, *, shown: str | None = None, **limits: Any) -> Any:
    """A field with its one-line description, range limits and how the docs show its default."""
    extra: dict[str, JsonValue] | None = {"shown": shown} if shown is not None else None
    return Field(default, description=description, json_schema_extra=extra, **limits)


# --------------------------------------------------------------------------- the model


class Settings(BaseSettings):
    """Every tunable of axiswatch; docs/sources-and-settings.md's table is generated from these fields."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        frozen=True,
        extra="forbid",
        validate_default=True,
        env_ignore_empty=True,
        str_strip_whitespace=True,
    )

    # paths
    data_dir: Path = setting(Path("var"), "warehouse, spool, reports and Prefect home live under it")
    db_path: Path | None = setting(None, "the DuckDB warehouse file", shown="DATA_DIR/axiswatch.duckdb")
    warehouse: str | None = setting(
        None,
        "`duckdb:PATH` or `ducklake:postgres:<libpq conninfo>` (several writers; see scale-out)",
        shown="duckdb:DB_PATH",
    )
    warehouse_data_path: str | None = setting(
        None, "a DuckLake warehouse's table data: a directory (made absolute) or `s3://bucket/prefix/`"
    )
    s3_endpoint: str | None = setting(
        None,
        "an `s3://` data path's S3-compatible server, `http(s)://host:port` (MinIO, Ceph, …)",
        shown="(AWS)",
        pattern=r"^(https?://)?[A-Za-z0-9.\-\[\]:]+/?$",
    )
    s3_region: str = setting("us-east-1", "an `s3://` data path's region", min_length=1)
    s3_access_key_id: str | None = setting(None, "an `s3://` data path's access key id")
    s3_secret_access_key: str | None = setting(
        None, "an `s3://` data path's secret access key (never printed)", repr=False
    )
    s3_url_style: Literal["path", "vhost"] | None = setting(
        None, "`path` or `vhost` addressing of the bucket", shown="(path with an endpoint, else vhost)"
    )
    sources_file: Path = setting(SEEDS_DIR / "sources.toml", "the outlets and feeds to watch")
    topics_file: Path = setting(SEEDS_DIR / "topics.toml", "the trilingual topic dictionary of articles")
    reports_dir: Path | None = setting(None, "where weekly reports are written", shown="DATA_DIR/reports")
    # network
    allow_hosts: Hosts = setting(
        (), "hosts exempt from the private-address guard (the demo and tests: 127.0.0.1)"
    )
    user_agent: str = setting(
        "axiswatch/0.1 (media-monitoring research crawler)",
        "User-Agent of every request; add your contact",
        min_length=1,
    )
    connect_timeout: float = setting(5.0, "seconds to open a connection (per attempt)", gt=0)
    read_timeout: float = setting(10.0, "seconds to wait for the next bytes of a response", gt=0)
    total_timeout: float = setting(30.0, "seconds for a whole request, all redirects and retries", gt=0)
    max_body_bytes: int = setting(
        10 * 1024 * 1024, "cap on a (decompressed) response body in bytes (10 MiB)", ge=1
    )
    max_redirects: int = setting(5, "redirects followed before `too_many_redirects`", ge=0)
    host_concurrency: int = setting(2, "requests in flight at once per host", ge=1)
    host_delay_seconds: float = setting(1.0, "seconds between two requests to the same host", ge=0)
    retries: int = setting(2, "retries after a network error, 5xx or 429 (0: none)", ge=0)
    retry_backoff_seconds: float = setting(
        1.0, "seconds before the first retry, doubled for each next one", ge=0
    )
    max_retry_after_seconds: float = setting(
        60.0, "a 429/5xx asking to wait longer (Retry-After) is not retried", ge=0
    )
    fetch_workers: int = setting(8, "threads fetching feeds and pages", ge=1)
    obey_robots: bool = setting(True, "obey robots.txt for article pages")
    # feeds and sources
    poll_interval_minutes: float = setting(30.0, "a source is due when last polled this long ago", ge=0)
    failure_backoff_after: int = setting(3, "consecutive failures before a source backs off", ge=1)
    failure_backoff_minutes: float = setting(60.0, "first backoff, doubled on each further failure", gt=0)
    max_backoff_minutes: float = setting(24 * 60.0, "cap on the backoff of a failing source (24 h)", gt=0)
    max_entries_per_feed: int = setting(
        200, "newest entries read from one feed document; older ones are cut off", ge=1
    )
    page_attempts: int = setting(3, "attempts at an article page before its entry is `gave_up`", ge=1)
    # extraction
    extract_timeout_seconds: float = setting(
        20.0, "per-page extraction budget; the worker is killed past it", gt=0
    )
    extract_workers: int = setting(2, "extraction worker processes", ge=1)
    min_article_chars: int = setting(
        25, "shortest page or feed text, in characters, stored as an article", ge=1
    )
    near_duplicate_resemblance: float = setting(
        0.5, "MinHash resemblance from which an article is a near-copy of an earlier one", gt=0, le=1
    )
    # warehouse
    lock_patience_seconds: float = setting(
        60.0, "seconds a writer waits for the warehouse lock before spooling", ge=0
    )
    batch_size: int = setting(64, "entries fetched, or articles scored, per batch", ge=1)
    commit_writes: int = setting(
        64, "writes (an article, a batch of scores, …) sharing one commit at most", ge=1
    )
    commit_mib: float = setting(16.0, "approximate MiB of rows sharing one commit at most", gt=0)
    lake_retention_days: float = setting(
        7.0, "on a DuckLake: days of snapshots and replaced files `warehouse maintain` keeps", gt=0
    )
    sql_timeout_seconds: float = setting(
        300.0, "seconds an `axiswatch sql` query may run before it is cancelled", gt=0
    )
    # model and report
    model_version: str | None = setting(
        None,
        "model version that scores (`score`, `run`, `serve`) and classifies",
        shown="(newest artifact)",
        min_length=1,
    )
    timezone: TimeZone = setting(
        "Asia/Seoul", "time zone of the ISO weeks (marts, report) and of the `serve` schedules"
    )
    torch_threads: int = setting(
        2, "threads for scoring and model builds (torch's threads; int8: texts run at once)", ge=1
    )
    encoder_precision: Literal["int8", "fp32"] = setting(
        "int8",
        "encoders when scoring: `int8` (MiniLM and USE in ONNX Runtime, graphs built once into the user "
        "cache) or `fp32` (MiniLM in torch, USE in numpy)",
    )
    pipeline_cron: Cron = setting("*/30 * * * *", "when `serve` runs the `pipeline` deployment")
    report_cron: Cron = setting("0 7 * * 1", "when `serve` runs the `weekly-report` deployment")
    lake_maintenance_cron: Cron = setting("45 4 * * *", "on a DuckLake: when `lake-maintenance` runs")
    pipeline_interval_seconds: float = setting(
        0.0, "> 0: `serve` runs the pipeline at this interval instead of its cron", ge=0
    )
    prefect_port: int = setting(
        0, "port of the local Prefect server `serve` starts (0: any free port)", ge=0, le=65535
    )
    prefect_database_url: str | None = setting(
        None,
        "database of the Prefect server `serve` starts: postgresql+asyncpg://… (or sqlite+aiosqlite://…)",
        shown="SQLite under DATA_DIR/prefect",
        pattern=r"^(postgresql\+asyncpg|sqlite\+aiosqlite)://",
    )
    # alerts (flows/alerts, docs/alerts.md)
    alert_notify_urls: Hosts = setting(
        (),
        "apprise URLs every new alert is sent to, separated by commas or spaces (`mailtos://…`, `json://…`)",
    )
    alert_fdr: float = setting(
        0.03, "false discovery rate (Benjamini–Hochberg) across the series tested in one run", gt=0, le=0.5
    )
    alert_min_articles: int = setting(
        10, "fewest relevant articles after a change point for a series to be tested", ge=3
    )
    alert_baseline_days: int = setting(28, "days before a change point that form its baseline", ge=7, le=182)
    alert_scan_days: int = setting(7, "latest complete days searched for a change point", ge=1, le=28)
    alert_min_delta: float = setting(
        0.1, "smallest change of the stance index (after − before) that raises an alert", ge=0, le=2
    )
    alert_delivery_attempts: int = setting(
        20, "runs that retry a failed notification before it is given up", ge=1
    )
    # scale-out (work pool)
    shards: int = setting(
        1, "> 1: a pipeline run fans out to this many `pipeline-shard` runs on the work pool", ge=1, le=64
    )
    shard_attempts: int = setting(
        2, "times a pipeline run starts a shard that crashed or failed before giving up on it", ge=1, le=5
    )
    shard_timeout_seconds: float = setting(
        3600.0, "seconds a pipeline run waits for its shard runs before giving up on them", gt=0
    )

    @field_validator("warehouse")
    @classmethod
    def _warehouse_spec(cls, value: str | None) -> str | None:
        """``duckdb:PATH`` or ``ducklake:postgres:<conninfo>``."""
        return None if value is None else check_warehouse(value)

    @model_validator(mode="after")
    def _lake_has_data_path(self) -> Settings:
        """A ducklake warehouse names where its table data goes."""
        if self.warehouse and not self.warehouse.startswith("duckdb:") and not self.warehouse_data_path:
            raise ValueError("AXISWATCH_WAREHOUSE is a ducklake: set AXISWATCH_WAREHOUSE_DATA_PATH too")
        return self

    @model_validator(mode="after")
    def _notifier_urls(self) -> Settings:
        """Every notifier URL is one apprise knows (checked offline, nothing sent; the message
        names the scheme only, never the URL, which may hold a password)."""
        from flows.alerts.notify import check_urls

        try:
            check_urls(self.alert_notify_urls)
        except ValueError as exc:
            raise ValueError(f"AXISWATCH_ALERT_NOTIFY_URLS: {exc}") from None
        return self

    @field_validator("alert_notify_urls", mode="before")
    @classmethod
    def _split_urls(cls, value: Any) -> Any:
        """URLs from a string: split at commas or spaces that come before a scheme (`x://`)."""
        if isinstance(value, str):
            return tuple(p.strip() for p in re.split(r"[\s,]+(?=[A-Za-z][\w+.-]*://)", value) if p.strip())
        return value

    @field_validator("allow_hosts", mode="before")
    @classmethod
    def _split_hosts(cls, value: Any) -> Any:
        """Hosts from a comma-separated string (env, flag) or any sequence."""
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """``Settings(...)`` is defaults plus its arguments; the environment is read by ``load``."""
        return (init_settings,)

    @property
    def warehouse_path(self) -> Path:
        """Path of the DuckDB warehouse file (when the warehouse is a file: see ``location``)."""
        if self.warehouse and self.warehouse.startswith("duckdb:"):
            return Path(self.warehouse.removeprefix("duckdb:"))
        return self.db_path if self.db_path is not None else self.data_dir / "axiswatch.duckdb"

    @property
    def s3(self) -> S3:
        """How an ``s3://`` data path is reached (endpoint, region, credentials)."""
        names = ("endpoint", "region", "access_key_id", "secret_access_key", "url_style")
        return S3(*(getattr(self, f"s3_{name}") for name in names))

    @property
    def location(self) -> Path | Lake:
        """The warehouse: a DuckDB file's path, or a DuckLake (catalog conninfo and data path)."""
        if self.warehouse and not self.warehouse.startswith("duckdb:"):
            return parse_warehouse(self.warehouse, self.warehouse_data_path, self.s3)
        return self.warehouse_path

    @property
    def report_path(self) -> Path:
        """Directory the weekly reports are written under."""
        return self.reports_dir if self.reports_dir is not None else self.data_dir / "reports"

    @property
    def spool_dir(self) -> Path:
        """Directory where results wait when the warehouse is locked for too long."""
        return self.data_dir / "spool"

    def sink(self) -> Sink:
        """The warehouse sink for these settings (warehouse file, spool, lock patience)."""
        from warehouse.sink import Sink

        limits = {"commit_ops": self.commit_writes, "commit_bytes": int(self.commit_mib * 2**20)}
        return Sink(self.location, self.spool_dir, self.lock_patience_seconds, **limits)

    def replace(self, **changes: Any) -> Settings:
        """Return a validated copy with some fields changed (strings are parsed like env values)."""
        _check_names(changes)
        return _build(type(self), {**dict(self), **changes}, set())

    @classmethod
    def load(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Build settings from defaults, then AXISWATCH_* env vars, then explicit (non-None) overrides."""
        _check_names(overrides)
        from_env = _read_env(cls, os.environ if env is None else env)
        given = {name: value for name, value in overrides.items() if value is not None}
        return _build(cls, {**from_env, **given}, set(from_env) - set(given))


class _MappingEnvSource(EnvSettingsSource):
    """pydantic-settings' env source reading a given mapping instead of ``os.environ``."""

    def __init__(self, settings_cls: type[BaseSettings], env: Mapping[str, str]) -> None:
        """Remember the mapping, then let the base class read it."""
        self._mapping = env
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        """The mapping's non-empty variables, names lower-cased (env names are case-insensitive)."""
        return {name.lower(): value for name, value in self._mapping.items() if value != ""}


def _read_env(cls: type[Settings], env: Mapping[str, str]) -> dict[str, Any]:
    """The raw values of the AXISWATCH_* variables in ``env``, keyed by field name."""
    try:
        return dict(_MappingEnvSource(cls, env)())
    except SourceError as exc:
        raise SettingsError(str(exc).splitlines()[0]) from None


def _check_names(values: Mapping[str, Any]) -> None:
    """Fail with the list of valid names when a setting name is unknown."""
    unknown = sorted(set(values) - set(Settings.model_fields))
    if unknown:
        valid = ", ".join(Settings.model_fields)
        raise SettingsError(f"unknown setting {unknown[0]!r}; valid settings: {valid}")


def _build(cls: type[Settings], values: dict[str, Any], from_env: set[str]) -> Settings:
    """Validate ``values`` into Settings; errors become one SettingsError line naming each setting."""
    try:
        return cls(**values)
    except ValidationError as exc:
        problems = [_describe(error, from_env) for error in exc.errors()]
        raise SettingsError("; ".join(problems)) from None


def _describe(error: Any, from_env: set[str]) -> str:
    """``AXISWATCH_READ_TIMEOUT: must be greater than 0 (got -1)`` for one validation error."""
    if not error["loc"]:  # a rule across settings (model validator): its message names them
        return re.sub(r"^Value error, ", "", error["msg"]).replace("\n", " ")
    name = str(error["loc"][0])
    where = ENV_PREFIX + name.upper() if name in from_env else f"setting {name}"
    message = re.sub(r"^Value error, ", "", error["msg"]).split(", unable to")[0]
    message = re.sub(r"^\w+ should ", "must ", message)
    message = BETTER_MESSAGES.get(message, message)
    got = error["input"]
    shown = got if isinstance(got, str) else repr(got)
    return f"{where}: {message} (got {shown})".replace("\n", " ")
