"""Whole-run benchmarks: ingest then score end to end, and a no-change run with Prefect's startup."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from flows.settings import Settings
from flows.tools import demo_site as demo
from flows.tools.bench_stages import (
    PROBE_CODE,
    SUBPROCESS_TIMEOUT_S,
    BenchSite,
    fresh_dir,
    settings_json,
    stage_settings,
)

# ---------------------------------------------------------------- end to end


E2E_CODE = """\
import json, sys, time
from flows.pipeline import ingest_and_score, ingest_stage, score_stage
from flows.settings import Settings
run = Settings.load(env={}, **json.loads(sys.argv[1]))
started = time.perf_counter()
if sys.argv[2] == "overlapped":
    counts, _, scored = ingest_and_score(run, plain=True)
    ingested = started
else:
    counts = ingest_stage(run, plain=True)
    ingested = time.perf_counter()
    _, scored = score_stage(run, plain=True)
done = time.perf_counter()
print(json.dumps({"feeds": counts.feeds_polled, "entries": counts.discovered,
                  "pages_fetched": counts.fetched, "articles_stored": counts.extracted,
                  "articles_scored": scored, "ingest_s": ingested - started, "score_s": done - ingested}))
"""


def _e2e_child(settings: Settings, site: BenchSite, workdir: Path, mode: str) -> dict[str, Any]:
    """One run into a fresh warehouse in a child process of its own (its memory is the run's, its
    imports and model loading its own): ``mode`` "overlapped" (the pipeline's ingest with scoring
    behind it) or "sequential" (ingest, then the score stage alone, each timed)."""
    run = stage_settings(settings, fresh_dir(workdir))
    demo.write_sources(site.feeds, site.server.base_url, run.sources_file)
    _, stdout = _run_child(
        [sys.executable, "-c", E2E_CODE, settings_json(run), mode], dict(os.environ), workdir
    )
    result: dict[str, Any] = json.loads(stdout.strip().splitlines()[-1])
    if result["articles_scored"] == 0:
        raise RuntimeError(f"{mode} run stored {result['articles_stored']} articles but scored none")
    return result


def end_to_end_once(settings: Settings, site: BenchSite, workdir: Path) -> dict[str, Any]:
    """The sequential run (its score stage is scoring alone on the stored articles, loading the
    classifier included) and the overlapped run, as the pipeline does it, end to end."""
    alone = _e2e_child(settings, site, workdir / "sequential", "sequential")
    both = _e2e_child(settings, site, workdir / "overlapped", "overlapped")
    if both["articles_scored"] != alone["articles_scored"]:
        raise RuntimeError(
            f"overlapped run scored {both['articles_scored']}, sequential {alone['articles_scored']}"
        )
    return {**alone, "sequential_s": alone["ingest_s"] + alone["score_s"], "overlapped_s": both["score_s"]}


def measure_end_to_end(settings: Settings, site: BenchSite, workdir: Path, repeats: int) -> dict[str, Any]:
    """``repeats`` pairs of runs (plain functions, no Prefect, one process each), each into a fresh
    warehouse: ``e2e_s`` is the overlapped run's seconds, ``score_s`` the score stage alone."""
    runs = [end_to_end_once(settings, site, workdir / f"e2e-{rep}") for rep in range(repeats)]
    keys = ("ingest_s", "score_s", "sequential_s", "overlapped_s")
    out: dict[str, Any] = {k: [r[k] for r in runs] for k in keys}
    out["e2e_s"] = out["overlapped_s"]
    out.update({k: v for k, v in runs[-1].items() if k not in keys})
    return out


# ---------------------------------------------------------------- no-change run and Prefect startup


def subprocess_env(settings: Settings, prefect_home: Path) -> dict[str, str]:
    """Environment of the no-change run and the Prefect probe (identical for both)."""
    env = dict(os.environ)
    env.update(
        {
            "AXISWATCH_ALLOW_HOSTS": "127.0.0.1",
            "AXISWATCH_HOST_DELAY_SECONDS": "0",
            "AXISWATCH_POLL_INTERVAL_MINUTES": "0",
            "AXISWATCH_RETRIES": "0",
            "AXISWATCH_TORCH_THREADS": str(settings.torch_threads),
        }
    )
    if settings.model_version:
        env["AXISWATCH_MODEL_VERSION"] = settings.model_version
    if "PREFECT_HOME" not in env and "PREFECT_API_URL" not in env:
        env["PREFECT_HOME"] = str(prefect_home.resolve())
    return env


def _run_child(cmd: list[str], env: dict[str, str], cwd: Path) -> tuple[float, str]:
    """Run a child process to completion; its wall seconds and stdout (raises on failure)."""
    started = time.perf_counter()
    proc = subprocess.run(
        cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=SUBPROCESS_TIMEOUT_S, check=False
    )
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
        raise RuntimeError(f"{' '.join(cmd[1:4])} exited {proc.returncode}: {' | '.join(tail)}")
    return elapsed, proc.stdout


def no_change_command(settings: Settings) -> list[str]:
    """`axiswatch run` on the no-change warehouse, as a fresh Python process."""
    paths = {"data-dir": settings.data_dir, "db": settings.warehouse_path, "sources": settings.sources_file}
    options = [part for name, path in paths.items() for part in (f"--{name}", str(path.resolve()))]
    return [sys.executable, "-m", "flows.cli", "run", "--json", *options]


def _check_no_change(stdout: str, feeds: int) -> dict[str, Any]:
    """The run's JSON result, checked to be a run where every feed answered 304."""
    result: dict[str, Any] = json.loads(stdout.strip().splitlines()[-1])
    if result.get("not_modified") != feeds or result.get("discovered") or result.get("fetched"):
        raise RuntimeError(f"not a no-change run: {feeds} feeds, result {result}")
    return result


def measure_no_change(settings: Settings, site: BenchSite, workdir: Path, repeats: int) -> dict[str, Any]:
    """Seconds of `axiswatch run` (fresh process, Prefect pipeline flow) when every feed answers
    304, and of a trivial Prefect flow in a fresh process with the same environment.

    A first `axiswatch run` (not timed) stores the feeds' articles, scores and ETags, and
    creates Prefect's database, so neither is counted; models never load in this process.
    """
    run = stage_settings(settings, fresh_dir(workdir / "no-change"))
    demo.write_sources(site.no_change_feeds, site.server.base_url, run.sources_file)
    env = subprocess_env(run, workdir / "prefect")
    out: dict[str, Any] = {"feeds": len(site.no_change_feeds), "run_s": [], "prefect_startup_s": []}
    out["first_run_s"] = _run_child(no_change_command(run), env, workdir)[0]
    probe = [sys.executable, "-c", PROBE_CODE, str(run.data_dir.resolve())]
    for _ in range(repeats):
        out["prefect_startup_s"].append(_run_child(probe, env, workdir)[0])
        elapsed, stdout = _run_child(no_change_command(run), env, workdir)
        out["run_s"].append(elapsed)
        out["result"] = _check_no_change(stdout, out["feeds"])
    return out
