"""One Settings object, built once from defaults, the environment (AXISWATCH_*) and CLI flags.

Nothing else in the project reads ``os.environ`` for axiswatch settings.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

ENV_PREFIX = "AXISWATCH_"
PROJECT_ROOT = Path(__file__).resolve().parent.parent


def find_seeds_dir() -> Path:
    """seeds/ of the source checkout, else ./seeds (an installed package, e.g. /app in the image)."""
    here = PROJECT_ROOT / "seeds"
    return here if here.is_dir() else Path.cwd() / "seeds"


SEEDS_DIR = find_seeds_dir()


class SettingsError(ValueError):
    """A setting has a value that cannot be used."""


@dataclass(frozen=True)
class Settings:
    """Every tunable of axiswatch; see README 'Settings' for the env names."""

    data_dir: Path = Path("var")
    db_path: Path | None = None
    sources_file: Path = SEEDS_DIR / "sources.toml"
    reports_dir: Path | None = None
    # network
    allow_hosts: tuple[str, ...] = ()
    user_agent: str = "axiswatch/0.1 (media-monitoring research crawler)"
    connect_timeout: float = 5.0
    read_timeout: float = 10.0
    total_timeout: float = 30.0
    max_body_bytes: int = 10 * 1024 * 1024
    max_redirects: int = 5
    host_concurrency: int = 2
    host_delay_seconds: float = 1.0
    retries: int = 2
    retry_backoff_seconds: float = 1.0
    max_retry_after_seconds: float = 60.0
    fetch_workers: int = 8
    obey_robots: bool = True
    # feeds and sources
    poll_interval_minutes: float = 30.0
    failure_backoff_after: int = 3
    failure_backoff_minutes: float = 60.0
    max_backoff_minutes: float = 24 * 60.0
    max_entries_per_feed: int = 200
    page_attempts: int = 3
    # extraction
    extract_timeout_seconds: float = 20.0
    extract_workers: int = 2
    min_article_chars: int = 25
    near_duplicate_resemblance: float = 0.5
    # warehouse
    lock_patience_seconds: float = 60.0
    batch_size: int = 32
    # model and report
    model_version: str | None = None
    timezone: str = "Asia/Seoul"
    torch_threads: int = 2
    pipeline_cron: str = "*/30 * * * *"
    pipeline_interval_seconds: float = 0.0  # > 0: run the pipeline at this interval instead of its cron
    prefect_port: int = 0  # port of the local Prefect server `serve` starts (0: any free port)
    report_cron: str = "0 7 * * 1"

    @property
    def warehouse_path(self) -> Path:
        """Path of the DuckDB warehouse file."""
        return self.db_path if self.db_path is not None else self.data_dir / "axiswatch.duckdb"

    @property
    def report_path(self) -> Path:
        """Directory the weekly reports are written under."""
        return self.reports_dir if self.reports_dir is not None else self.data_dir / "reports"

    @property
    def spool_dir(self) -> Path:
        """Directory where results wait when the warehouse is locked for too long."""
        return self.data_dir / "spool"

    def replace(self, **changes: Any) -> Settings:
        """Return a copy with some fields changed (values are coerced like env values)."""
        coerced = {k: _coerce(_field(k), v) for k, v in changes.items() if v is not None}
        return dataclasses.replace(self, **coerced)

    @classmethod
    def load(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Build settings from defaults, then AXISWATCH_* env vars, then explicit overrides."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(ENV_PREFIX + f.name.upper())
            if raw is not None and raw != "":
                values[f.name] = _coerce(f, raw)
        for name, value in overrides.items():
            if value is not None:
                values[name] = _coerce(_field(name), value)
        return cls(**values)


def _field(name: str) -> dataclasses.Field[Any]:
    """Look up a Settings field by name or fail with the list of valid names."""
    for f in fields(Settings):
        if f.name == name:
            return f
    valid = ", ".join(f.name for f in fields(Settings))
    raise SettingsError(f"unknown setting {name!r}; valid settings: {valid}")


def _coerce(f: dataclasses.Field[Any], value: Any) -> Any:
    """Convert a raw (usually string) value to the type of field ``f``."""
    kind = str(f.type)
    try:
        if "tuple" in kind:
            if isinstance(value, str):
                return tuple(part.strip() for part in value.split(",") if part.strip())
            return tuple(value)
        if "Path" in kind:
            return Path(value)
        if kind == "bool":
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in {"1", "true", "yes", "on"}:
                return True
            if text in {"0", "false", "no", "off"}:
                return False
            raise ValueError(f"not a boolean: {value!r}")
        if kind == "int":
            return int(value)
        if kind == "float":
            return float(value)
        return None if value is None else str(value)
    except (TypeError, ValueError) as exc:
        env_name = ENV_PREFIX + f.name.upper()
        raise SettingsError(f"setting {f.name} ({env_name}): {exc}") from exc
