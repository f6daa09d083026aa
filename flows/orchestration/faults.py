"""Known faults end a flow run in one line: never retried, never logged with a traceback.

A damaged warehouse, a full or read-only disk, a held run lock: retrying cannot help and a
traceback tells the operator nothing the one line does not. ``final_failure`` is the Failed
state a flow returns for them, with the flow's retries turned off for this run; tasks retry
only on other errors (``retry_unless_known``); ``quiet_known_faults`` keeps Prefect's task
logger from printing their traceback (the flow's Failed state carries the line instead).
"""

from __future__ import annotations

import logging
from typing import Any

from prefect.client.schemas.objects import State
from prefect.states import Failed

from flows.orchestration.runlock import RunActive, RunLockError
from warehouse.base import WarehouseError

KNOWN = (WarehouseError, RunActive, RunLockError)


def _class_names(classes: tuple[type, ...]) -> set[str]:
    """The names of ``classes`` and of all their subclasses."""
    names: set[str] = set()
    for cls in classes:
        names |= {cls.__name__} | _class_names(tuple(cls.__subclasses__()))
    return names


def final_failure(message: str) -> State:
    """A Failed state carrying ``message`` that the flow's own retries do not repeat."""
    from prefect.client.orchestration import get_client
    from prefect.context import FlowRunContext

    context = FlowRunContext.get()
    run = context.flow_run if context else None
    if run is not None and run.empirical_policy.retries:
        policy = run.empirical_policy.model_copy(update={"retries": 0})
        try:
            with get_client(sync_client=True) as client:
                client.update_flow_run(run.id, empirical_policy=policy)
        except Exception as exc:  # the API is gone too: the run then retries once, harmlessly
            logging.getLogger(__name__).warning("could not turn off retries of this run: %s", exc)
    return Failed(message=message)


def retry_unless_known(_task: Any, _task_run: Any, state: State) -> bool:
    """A task's retry condition: retry on anything but a known fault."""
    exc = state.result(raise_on_failure=False)
    return not isinstance(exc, KNOWN)


class QuietKnownFaults(logging.Filter):
    """Drops Prefect's task-failure records (and their tracebacks) for known faults."""

    def filter(self, record: logging.LogRecord) -> bool:
        """False for a record about a known fault, else True."""
        if record.exc_info and isinstance(record.exc_info[1], KNOWN):
            return False
        text = record.getMessage() if record.levelno >= logging.ERROR else ""
        return not (text.startswith("Finished in state Failed") and _names_known(text))


def _names_known(text: str) -> bool:
    """Whether a Prefect state message names one of the known fault classes."""
    return any(f"exception {name}:" in text for name in _class_names(KNOWN))


def quiet_known_faults() -> None:
    """Install the filter on Prefect's task-run logger (once)."""
    logger = logging.getLogger("prefect.task_runs")
    if not any(isinstance(f, QuietKnownFaults) for f in logger.filters):
        logger.addFilter(QuietKnownFaults())
