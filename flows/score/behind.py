"""Scoring behind ingest: one thread scores what ingest has stored while ingest goes on.

Fetching and extracting wait on the network and the extraction workers, and use about one core;
scoring keeps both busy in ONNX Runtime, which releases the GIL. Run one after the other, a run
takes ingest + score; overlapped, scoring uses what ingest leaves idle (the demo corpus's
figures are in docs/scaling-out.md). The scoring thread does exactly what the score stage does
(the same batches of unscored originals, read afresh, the same writes); it waits for ingest to
store a batch, and when ingest is over it makes a last pass. The score stage then runs as usual:
it finds nothing left (or what a lock left over) and registers the version.

Only a warehouse file is shared by threads (``warehouse.db.shared_by_threads``): its reads open
read-write, so both threads' connections share one database. The model's ONNX Runtime runs are
single-threaded, ``torch_threads`` texts at once (``models.onnx_minilm.TextRuns``): no pool thread
spins waiting for work and takes ingest's cores.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from flows.score import stage as score
from flows.settings import Settings
from warehouse.db import shared_by_threads
from warehouse.sink import Sink

if TYPE_CHECKING:
    from models.classifier import StanceClassifier

Say = Callable[[str], None]


@dataclass
class ScoreBehind:
    """The scoring thread's state; ingest calls ``wake_up`` (``scoring_behind`` ends it)."""

    settings: Settings
    score_one: score.ScoreFn
    say: Say
    wake: threading.Event = field(default_factory=threading.Event)
    ingest_over: threading.Event = field(default_factory=threading.Event)
    abandon: threading.Event = field(default_factory=threading.Event)
    classifier: StanceClassifier | None = None
    wanted: bool = False  # ingest found something: load the model before a batch is stored
    scored: int = 0

    def wake_up(self) -> None:
        """Ingest found new entries (the thread loads the model meanwhile) or stored a batch."""
        self.wanted = True
        self.wake.set()

    def run(self) -> int:
        """The thread's loop: a pass per wake-up, a last one after ingest; the articles scored."""
        sink = self.settings.sink()
        version = score.resolve_version(self.settings)
        while True:
            self.wake.wait()
            self.wake.clear()
            last = self.ingest_over.is_set()  # read before the pass: this pass then sees every write
            if self.abandon.is_set() or not self._one_pass(sink, version) or last:
                return self.scored

    def _one_pass(self, sink: Sink, version: str) -> bool:
        """Score every unscored original now stored; False when the warehouse got locked. The model
        is loaded once ingest found something, or for a first batch (never when nothing is new)."""
        if self.classifier is None and self.wanted:
            self.classifier = score.load_classifier(self.settings)
        for batch in score.iter_batches(self.settings, sink, version):
            if self.abandon.is_set():
                return False
            if self.classifier is None:
                self.classifier = score.load_classifier(self.settings)
            self.scored += self.score_one(self.settings, self.classifier, batch, sink)
            self.say(f"scored {self.scored} articles with model {version}")
            if sink.locked_by:
                self.say(f"warehouse locked by {sink.locked_by}: scoring resumes on the next run")
                return False
        return True


@contextmanager
def scoring_behind(settings: Settings, score_one: score.ScoreFn, say: Say) -> Iterator[ScoreBehind]:
    """Run a ScoreBehind thread while the block ingests (in this context, so a Prefect flow run's
    tasks stay inside it); on leaving, the last pass runs (``.scored`` then counts its articles).
    If the block raises, the thread stops after its current batch and the error propagates."""
    behind = ScoreBehind(settings, score_one, say)
    context = contextvars.copy_context()
    pool = ThreadPoolExecutor(1, "score-behind")
    with shared_by_threads(settings.location), pool:
        future: Future[int] = pool.submit(context.run, behind.run)
        try:
            yield behind
        except BaseException:
            behind.abandon.set()
            raise
        finally:
            behind.ingest_over.set()
            behind.wake.set()
        future.result()  # the scoring thread's own error, if any
