"""What every warehouse module shares: its errors, its clock and where its SQL files live."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
MIGRATIONS_DIR = PACKAGE_DIR / "migrations"
QUERIES_DIR = PACKAGE_DIR / "queries"
VIEWS_DIR = PACKAGE_DIR / "views"
REPORTS_DIR = PACKAGE_DIR / "reports"


class WarehouseError(RuntimeError):
    """The warehouse cannot be opened or used as asked."""


class MissingWarehouse(WarehouseError):
    """The warehouse file does not exist yet (callers add how to create it for their settings)."""

    def __init__(self, path: Path) -> None:
        """Record the missing path."""
        super().__init__(f"no warehouse at {path}")
        self.path = path


class StorageFault(WarehouseError):
    """The warehouse or data directory cannot be used: the message names the cause and path."""


class WarehouseCorrupt(StorageFault):
    """The warehouse file is damaged or is not a DuckDB database: waiting or spooling cannot help."""

    def __init__(self, path: Path, detail: str, *, foreign: bool = False) -> None:
        """Name the file, what is wrong with it and what to do."""
        if foreign:
            text = f"{path} is not a DuckDB database ({detail}): point --db at a warehouse or move it away"
        else:
            text = (
                f"warehouse {path} is damaged: {detail}; restore it "
                "from a backup, or move it away so the next run starts a new one"
            )
        super().__init__(text)
        self.path = path
        self.detail = detail


class WarehouseLocked(WarehouseError):
    """Another process held the warehouse lock for longer than our patience."""

    def __init__(self, path: Path, holder: str, waited: float) -> None:
        """Record which file, who holds it and how long we waited."""
        super().__init__(
            f"warehouse {path} is locked by {holder}; gave up after {waited:.0f}s "
            "(close the other session, or raise AXISWATCH_LOCK_PATIENCE_SECONDS)"
        )
        self.path = path
        self.holder = holder
        self.waited = waited


class MigrationChanged(WarehouseError):
    """A migration file no longer matches the checksum recorded when it was applied."""

    def __init__(self, file: Path, recorded: str, current: str) -> None:
        """Name the file and the two checksums, and say how to put it right."""
        super().__init__(
            f"migration {file} changed after it was applied to this warehouse "
            f"(checksum {recorded[:12]} when applied, {current[:12]} now): restore the file as it "
            "was applied and put the change in a new numbered migration"
        )
        self.file = file
        self.recorded = recorded
        self.current = current


def now_utc() -> datetime:
    """Current time, timezone-aware UTC (the warehouse stores TIMESTAMPTZ)."""
    return datetime.now(UTC)
