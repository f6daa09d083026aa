"""Extraction in worker processes: a per-page time budget, a memory cap, a killed worker replaced."""

from __future__ import annotations

import contextlib
import multiprocessing
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from multiprocessing.connection import Connection, wait
from typing import Any, Self

from flows.ingest.extract import Extracted, ExtractionError, extract_page
from flows.settings import Settings

# ---------------------------------------------------------------------------- process pool

PageFn = Callable[[bytes, Mapping[str, str], str], Extracted]
Result = Extracted | ExtractionError
Page = tuple[bytes, Mapping[str, str], str]
WORKER_ADDRESS_SPACE_BYTES = 4 * 1024**3  # a runaway page gets MemoryError, not the OOM killer
WORKER_START_SECONDS = 120.0  # a worker not ready by then counts as failed to start
MAX_START_FAILURES = 3  # consecutive start failures before pending pages are failed


def _worker_main(conn: Connection, page_fn: PageFn, address_space: int) -> None:
    """Worker process loop: receive (index, body, headers, url), send (index, result)."""
    with contextlib.suppress(ImportError, ValueError, OSError):
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))
    conn.send(("ready", None))
    while (task := _receive(conn)) is not None:
        index, body, headers, url = task
        conn.send((index, _run_page(page_fn, body, headers, url)))


def _receive(conn: Connection) -> Any:
    """Next task from the parent; None when told to stop or the parent went away."""
    try:
        return conn.recv()
    except EOFError:
        return None


def _run_page(page_fn: PageFn, body: bytes, headers: Mapping[str, str], url: str) -> Result:
    """Run one page, turning any failure into an ExtractionError."""
    try:
        return page_fn(body, headers, url)
    except ExtractionError as exc:
        return exc
    except MemoryError:
        return ExtractionError("extract_failed", "out of memory while extracting the page")
    except Exception as exc:  # any parser failure is recorded for this page, never raised
        return ExtractionError("extract_failed", f"{type(exc).__name__}: {exc}"[:500])


class _Worker:
    """One worker process with its pipe, current task and deadline."""

    def __init__(self, ctx: Any, page_fn: PageFn) -> None:
        self.conn, child = ctx.Pipe()
        args = (child, page_fn, WORKER_ADDRESS_SPACE_BYTES)
        self.proc = ctx.Process(target=_worker_main, args=args, daemon=True)
        self.proc.start()
        child.close()
        self.deadline = time.monotonic() + WORKER_START_SECONDS
        self.ready = False
        self.task: int | None = None

    def died(self) -> ExtractionError:
        """The error recorded for a page whose worker died."""
        self.proc.join(1)  # the pipe can close a moment before the exit status is known
        code = self.proc.exitcode
        if not self.ready:  # e.g. the main module starts work on import (no __main__ guard)
            return ExtractionError("extract_failed", f"extraction worker failed to start (exit code {code})")
        return ExtractionError("extract_failed", f"extraction worker died (exit code {code})")

    def kill(self) -> None:
        """Kill the process now and release its pipe."""
        self.proc.kill()
        self.proc.join(5)
        self.conn.close()


class Extractor:
    """Extract many fetched pages in a process pool with a hard per-page time budget.

    Not thread-safe: call ``extract_many`` from one thread at a time. Texts are returned
    whatever their length: the caller applies ``settings.min_article_chars``.
    """

    def __init__(self, settings: Settings, page_fn: PageFn = extract_page) -> None:
        self.settings = settings
        self.page_fn = page_fn  # must be a module-level function (it is pickled)
        self._ctx = multiprocessing.get_context("spawn")
        self._workers: list[_Worker] = []
        self._start_failures = 0

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop all worker processes."""
        for worker in self._workers:
            with contextlib.suppress(OSError):
                worker.conn.send(None)
        for worker in self._workers:
            worker.proc.join(2)
            worker.kill()
        self._workers = []

    def extract_many(self, pages: Sequence[Page]) -> list[Result]:
        """Extract (body, headers, url) pages; results in input order, errors as values."""
        results: dict[int, Result] = {}
        pending: deque[int] = deque()
        limit = self.settings.max_body_bytes
        for i, (body, _, _) in enumerate(pages):
            if len(body) > limit:
                msg = f"body of {len(body)} bytes exceeds max_body_bytes={limit}"
                results[i] = ExtractionError("too_large", msg)
            else:
                pending.append(i)
        while pending and len(self._workers) < max(1, self.settings.extract_workers):
            self._workers.append(_Worker(self._ctx, self.page_fn))
        while pending or any(w.task is not None for w in self._workers):
            self._dispatch(pending, pages)
            self._wait()
            for slot, worker in enumerate(self._workers):
                failure = self._check(worker, results)
                if failure is not None:
                    self._replace(slot, failure, results, pending)
        return [results[i] for i in range(len(pages))]

    def _dispatch(self, pending: deque[int], pages: Sequence[Page]) -> None:
        """Hand pending pages to idle, ready workers and start their budgets."""
        for worker in self._workers:
            if worker.ready and worker.task is None and pending:
                index = pending.popleft()
                body, headers, url = pages[index]
                worker.conn.send((index, bytes(body), dict(headers), url))
                worker.task = index
                worker.deadline = time.monotonic() + self.settings.extract_timeout_seconds

    def _wait(self) -> None:
        """Block until a worker has a message, dies, or the earliest deadline passes."""
        active = [w for w in self._workers if w.task is not None or not w.ready]
        timeout = min((w.deadline for w in active), default=time.monotonic())
        waitables = [w.conn for w in self._workers] + [w.proc.sentinel for w in self._workers]
        wait(waitables, max(0.0, timeout - time.monotonic()))

    def _check(self, worker: _Worker, results: dict[int, Result]) -> ExtractionError | None:
        """Read ``worker``'s message if any; return a failure if it died or overran."""
        if worker.conn.poll():
            try:
                index, result = worker.conn.recv()
            except (EOFError, OSError):
                return worker.died()
            if index == "ready":
                worker.ready, self._start_failures = True, 0
            else:
                results[index], worker.task = result, None
        if not worker.proc.is_alive():
            return worker.died()
        if (worker.task is not None or not worker.ready) and time.monotonic() > worker.deadline:
            if not worker.ready:
                return ExtractionError("extract_failed", "extraction worker did not start")
            budget = self.settings.extract_timeout_seconds
            msg = f"no result within extract_timeout_seconds={budget:g}; worker killed"
            return ExtractionError("extract_timeout", msg)
        return None

    def _replace(
        self, slot: int, failure: ExtractionError, results: dict[int, Result], pending: deque[int]
    ) -> None:
        """Kill the worker in ``slot``, record ``failure`` for its page, start a fresh one."""
        worker = self._workers[slot]
        worker.kill()
        if worker.task is not None:
            results[worker.task] = failure
        self._start_failures += not worker.ready
        if self._start_failures >= MAX_START_FAILURES:
            while pending:
                results[pending.popleft()] = failure
        self._workers[slot] = _Worker(self._ctx, self.page_fn)
