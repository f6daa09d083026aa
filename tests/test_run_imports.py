"""What `axiswatch run` imports before it knows there is work: a no-change run (every feed 304)
pays for Prefect and the pipeline's own modules, not for extraction, charts or the model."""

from __future__ import annotations

import json
import subprocess
import sys

from flows.settings import PROJECT_ROOT

HEAVY = ("trafilatura", "matplotlib", "torch", "transformers", "onnxruntime", "sklearn", "scipy")
"""Imported where they are used: extraction workers, the report, a run that scores, head fitting."""


def test_the_run_command_and_pipeline_import_nothing_heavy() -> None:
    code = (
        "import json, sys, flows.cli.commands, flows.pipeline, flows.score.behind; "
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    assert json.loads(out.stdout) == []
