"""Configure Prefect for axiswatch before it is imported: quiet, offline, sized for 2 cores.

Prefect reads its settings from the environment when it is first imported, so the CLI calls
``configure`` first. Values the user already set (e.g. PREFECT_API_URL for a real server)
are left alone.
"""

from __future__ import annotations

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
