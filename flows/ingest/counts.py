"""Funnel counts of an ingest run: feeds polled and failed, entries discovered, pages stored."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field, fields
from typing import Any


@dataclass
class IngestCounts:
    """Funnel counts of an ingest run (or of one batch of it)."""

    feeds_polled: int = 0
    feeds_failed: int = 0
    not_modified: int = 0
    discovered: int = 0
    fetched: int = 0
    extracted: int = 0
    duplicates: int = 0
    failed: int = 0
    spooled: int = 0
    failures: Counter[str] = field(default_factory=Counter)

    def add(self, other: IngestCounts) -> None:
        """Add another batch's counts to these."""
        for f in fields(self):
            if f.name != "failures":
                setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))
        self.failures.update(other.failures)

    def outcome(self) -> tuple[str, str | None]:
        """The run's outcome and why: 'failed' when no feed could be polled, 'partial' when some
        sources (feeds) or pages failed, 'ok' otherwise (also when no feed was due)."""
        if self.feeds_polled and self.feeds_failed == self.feeds_polled:
            classes = Counter(
                {k.removeprefix("feed:"): n for k, n in self.failures.items() if k.startswith("feed:")}
            )
            why = ", ".join(f"{name} ×{n}" for name, n in sorted(classes.items()))
            return "failed", f"no feed could be polled: all {self.feeds_polled} failed ({why})"
        return ("partial" if self.failed or self.feeds_failed else "ok"), None

    def as_run_fields(self) -> dict[str, Any]:
        """Columns of the runs table these counts fill."""
        outcome, why = self.outcome()
        spooled = f"{self.spooled} writes spooled (warehouse locked)" if self.spooled else None
        return {
            "feeds_polled": self.feeds_polled,
            "feeds_failed": self.feeds_failed,
            "discovered": self.discovered,
            "fetched": self.fetched,
            "extracted": self.extracted,
            "duplicates": self.duplicates,
            "failed": self.failed,
            "failures_json": json.dumps(dict(sorted(self.failures.items()))),
            "outcome": outcome,
            "message": "; ".join(m for m in (why, spooled) if m) or None,
        }
