"""Progress on long work (ingest, score, report, classify, model build): a rich progress display on
an interactive terminal only; nothing when stderr is not a terminal (logs, pipes, schedules), with
``--quiet`` or with AXISWATCH_PROGRESS=0. Never writes to stdout, so piped output stays clean."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

_quiet = False


def configure(*, quiet: bool) -> None:
    """Turn progress off for this process (``--quiet``) or back on."""
    global _quiet
    _quiet = quiet


def shown() -> bool:
    """Whether progress is drawn: stderr is a terminal, not --quiet, not AXISWATCH_PROGRESS=0."""
    return not _quiet and os.environ.get("AXISWATCH_PROGRESS", "1") != "0" and sys.stderr.isatty()


class Tracker:
    """One task of a progress display (does nothing when progress is not shown)."""

    def __init__(self, progress: Progress | None = None, task: TaskID | None = None) -> None:
        """Bind to a rich task, or to nothing."""
        self._progress, self._task = progress, task

    def advance(self, steps: float = 1, **fields: Any) -> None:
        """Count ``steps`` more done; ``description``/``total`` may change too."""
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, advance=steps, **fields)

    def update(self, **fields: Any) -> None:
        """Change the task's description, total or completed count."""
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, **fields)


@contextmanager
def tracker(description: str, total: float | None = None) -> Iterator[Tracker]:
    """A progress bar for one piece of long work (a spinner and a count when ``total`` is unknown)."""
    if not shown():
        yield Tracker()
        return
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    console = Console(file=sys.stderr)
    with Progress(
        *columns, console=console, transient=False, redirect_stdout=False, redirect_stderr=False
    ) as bar:
        yield Tracker(bar, bar.add_task(description, total=total))


def log_lines(logger: Any) -> Callable[[str], None]:
    """A stage's progress lines, sent to the run logger (the terminal's bars are ``tracker``'s)."""

    def say(message: str) -> None:
        logger.info(message)

    return say


def announce(name: str, result: dict[str, Any]) -> None:
    """One line on stdout per scheduled run, so `axiswatch serve` shows every run that fired."""
    r = result
    scored = f", scored {r['scored']}" if "scored" in r else ""
    why = f" ({r['message']})" if r.get("message") else ""
    print(
        f"{datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC scheduled {name} run {r['run_id']}: {r['outcome']}{why}; "
        f"feeds {r['feeds_polled']} (unchanged {r['not_modified']}, failed {r['feeds_failed']}), "
        f"new entries {r['discovered']}, articles stored {r['extracted']}{scored}",
        flush=True,
    )
