"""Run `score --rescore` in a subprocess and SIGKILL it inside the N-th call of one write op.

argv: settings JSON, op name, N. The process kills itself inside that op's transaction (after
its statements ran, before COMMIT): the worst moment for what readers see (used by test_rescore.py).
"""

from __future__ import annotations

import json
import os
import signal
import sys
from typing import Any

from flows.pipeline import score_stage
from flows.settings import Settings
from warehouse import sink


def main() -> None:
    """Patch the op to kill the process on its N-th call, then re-score."""
    values: dict[str, Any] = json.loads(sys.argv[1])
    name, kill_at = sys.argv[2], int(sys.argv[3])
    op = sink.OPS[name]
    original = op.apply
    calls = 0

    def killing(self: Any, con: Any) -> Any:
        nonlocal calls
        result = original(self, con)
        calls += 1
        if calls == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
        return result

    op.apply = killing  # type: ignore[method-assign]
    score_stage(Settings.load(env={}, **values), rescore=True, plain=True)


if __name__ == "__main__":
    main()
