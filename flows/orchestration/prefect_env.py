"""Configure Prefect for axiswatch before it is imported: quiet, offline, sized for 2 cores.

Prefect reads its settings from the environment when it is first imported, so the CLI calls
``configure`` first. Values the user already set (e.g. PREFECT_API_URL for a real server)
are left alone.
"""

from __future__ import annotations

import errno
import os
import sys
from pathlib import Path

from flows.settings import Settings


def prefect_defaults(settings: Settings) -> dict[str, str]:
    """The Prefect environment axiswatch runs with unless the user overrides it."""
    home = (settings.data_dir / "prefect").resolve()
    return {
        "PREFECT_HOME": str(home),
        # offline: no analytics or telemetry calls home, and no usage-data notice
        "DO_NOT_TRACK": "1",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_CLOUD_ENABLE_ORCHESTRATION_TELEMETRY": "false",
        "PREFECT_TELEMETRY_ENABLE_RESOURCE_METRICS": "false",
        "PREFECT_SERVER_UI_SHOW_PROMOTIONAL_CONTENT": "false",
        # quiet logs; our own progress goes through the run logger
        "PREFECT_LOGGING_LEVEL": "WARNING",
        "PREFECT_LOGGING_TO_API_ENABLED": "true",
        # the ephemeral API is a subprocess on loopback; give it time on a busy 2-core box
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
        # SQLite under PREFECT_HOME: wait for locks instead of failing at once
        "PREFECT_SERVER_DATABASE_TIMEOUT": "60",
        "PREFECT_SERVER_DATABASE_CONNECTION_TIMEOUT": "60",
        "PREFECT_RESULTS_PERSIST_BY_DEFAULT": "false",
        # the encoders load from installed files: no hub, no download progress bars
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "HF_HUB_DISABLE_PROGRESS_BARS": "1",
        "TRANSFORMERS_VERBOSITY": "error",
    }


def configure(settings: Settings) -> Path:
    """Set Prefect's environment defaults (before importing prefect); return PREFECT_HOME."""
    if "prefect" in sys.modules:
        # already imported (e.g. inside a test harness): its settings are fixed by now
        return Path(os.environ.get("PREFECT_HOME", str(settings.data_dir / "prefect")))
    for key, value in prefect_defaults(settings).items():
        os.environ.setdefault(key, value)
    home = Path(os.environ["PREFECT_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    return home


_FULL_OR_READ_ONLY = (
    "database or disk is full",
    "attempt to write a readonly database",
    "unable to open database file",
    "disk i/o error",
)


def _chain(exc: BaseException) -> list[BaseException]:
    """An exception and its causes and contexts, each once."""
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and all(current is not e for e in seen):
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def storage_fault(exc: BaseException, home: Path) -> str | None:
    """One line if an exception chain says Prefect's database under ``home`` ran out of space or
    became read-only (SQLite's own words, or an OSError of those kinds), else None."""
    for link in _chain(exc):
        if isinstance(link, OSError) and link.errno in (errno.ENOSPC, errno.EROFS, errno.EDQUOT):
            return f"storage fault at {link.filename or home}: {link.strerror} (Prefect's home is {home})"
        text = str(link).lower()
        found = next((m for m in _FULL_OR_READ_ONLY if m in text), None)
        if found:
            return (
                f"Prefect's database under {home} cannot be written: {found}; free space or make it writable"
            )
    return None


def is_database_locked(exc: BaseException) -> bool:
    """True when an exception chain says Prefect's SQLite database was locked."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if "database is locked" in str(current):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False
