"""The pipeline's stage loops without Prefect (``plain=True``), as tests call them."""

from __future__ import annotations

from flows.ingest.counts import IngestCounts
from flows.pipeline import ingest_stage, score_stage
from flows.settings import Settings


def run_ingest(settings: Settings) -> IngestCounts:
    """Sync sources, poll due feeds, fetch pending pages: the ingest loop of the pipeline."""
    return ingest_stage(settings, plain=True)


def run_score(settings: Settings, rescore: bool = False) -> tuple[str, int]:
    """Score every unscored original: the score loop of the pipeline."""
    return score_stage(settings, rescore=rescore, plain=True)
