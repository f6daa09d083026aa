"""Run one ingest in a subprocess and SIGKILL it mid-write (used by test_resume.py).

argv: settings JSON, N[, M]. The process kills itself inside the transaction of its N-th article
write (after the rows are inserted, before COMMIT), the worst moment for consistency; when
articles share a commit (set-wise, ``apply_many``), inside the write that reaches N; with M it
instead kills itself inside the M-th migration of a new warehouse (DDL run, ledger row not
committed).
"""

from __future__ import annotations

import json
import os
import signal
import sys
from typing import Any

from flows.pipeline import ingest_stage
from flows.settings import Settings
from warehouse import migrate, sink


def main() -> None:
    """Patch the store_article op to kill the process on its N-th article, then ingest."""
    values: dict[str, Any] = json.loads(sys.argv[1])
    kill_at = int(sys.argv[2])
    op = sink.OPS["store_article"]
    original, original_many = op.apply, op.apply_many
    calls = 0

    def count(n: int) -> None:
        nonlocal calls
        calls += n
        if kill_at and calls >= kill_at:
            os.kill(os.getpid(), signal.SIGKILL)

    def killing(self: Any, con: Any) -> Any:
        result = original(self, con)
        count(1)
        return result

    def killing_many(cls: Any, con: Any, ops: Any) -> Any:
        if len(ops) == 1:
            return original_many(con, ops)  # that is ``apply``, which counts
        result = original_many(con, ops)
        count(len(ops))
        return result

    op.apply = killing  # type: ignore[method-assign]
    op.apply_many = classmethod(killing_many)  # type: ignore[method-assign,assignment]
    if len(sys.argv) > 3:
        kill_in_migration(int(sys.argv[3]))
    ingest_stage(Settings.load(env={}, **values), plain=True)


def kill_in_migration(nth: int) -> None:
    """Kill the process when the nth migration stamps its ledger row (inside its transaction)."""
    original = vars(migrate)["now_utc"]
    stamps = 0

    def killing_clock() -> Any:
        nonlocal stamps
        stamps += 1
        if stamps == nth:
            os.kill(os.getpid(), signal.SIGKILL)
        return original()

    vars(migrate)["now_utc"] = killing_clock


if __name__ == "__main__":
    main()
