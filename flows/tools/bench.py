"""`axiswatch bench`: stage-by-stage throughput and memory on this machine, against its limits.

Serves the 181 real pages of the extraction benchmark and the demo feeds on loopback
(flows/tools/bench_stages.py and bench_runs.py do each stage) and reports every figure as the median of
``repeats`` runs. How the ratios are defined (the targets come from the bench issue):

- ``extract_overhead`` = wall seconds of our path (``Extractor``: decode + trafilatura with
  metadata, in ``extract_workers`` worker processes) / wall seconds of plain
  ``trafilatura.extract`` (defaults) on the same pages, sequentially in this process.
  ``extract_cpu_ratio`` compares CPU seconds instead (all processes), i.e. cost per page.
- ``score_fraction_of_limit`` = MiniLM tokens/s of ``StanceClassifier.predict_passages``
  (everything it does, the USE encoder and the heads included) / the compute limit, where the
  limit = float32 GEMM peak (FLOP/s, at the torch thread count used) / MiniLM FLOPs per token.
  MiniLM runs at ``encoder_precision`` (int8 by default), so the ratio can exceed 1.0: the limit is
  fp32's. With int8 the fp32 path is timed beside it (``score_fp32_fraction_of_limit``).
- ``end_to_end_vs_score`` = articles/s of a run into a fresh warehouse, ingest with scoring behind it
  as the pipeline runs them (``ingest_and_score``) / articles/s of the score stage alone on the same
  articles (a sequential run's score stage, in a process of its own) = score seconds / run seconds.
  The sequential run's total (``sequential_s``) is reported beside it.
- ``no_change_beyond_startup_s`` = seconds of `axiswatch run` (fresh process) when every feed
  answers 304 − seconds of a trivial Prefect flow in a fresh process with the same environment.
- ``many_feeds_no_change_s`` = seconds of `axiswatch run` (fresh process, Prefect start
  included) polling 2,000 item-less loopback feeds that all answer 304 (flows/bench_feeds.py).
- ``peak_rss_mib`` = peak of the summed RSS of this process and all its descendants
  (extraction workers, the `axiswatch run` children), sampled every 50 ms.
- ``run_peak_rss_mib`` = peak summed RSS of one run's own processes (the run and its extraction
  workers, without the bench process that holds every stage's models): the end-to-end run and the
  no-change `axiswatch run`, each a child process; the larger of the two.
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

import flows.cli.jsonout as jsonout
from flows.settings import Settings
from flows.tools import bench_runs as runs
from flows.tools import bench_stages as stages
from flows.tools.bench_feeds import measure_many_feeds
from flows.tools.bench_report import MIB, render, summarise
from flows.tools.bench_scale import measure_scale

VERSIONED = ("torch", "transformers", "onnxruntime", "duckdb", "trafilatura", "prefect", "numpy")


@dataclass(frozen=True)
class BenchConfig:
    """What one bench run measures: repetitions, benchmark pages (None: all), sizes."""

    repeats: int = 3
    pages: int | None = None
    no_change_feeds: int = 20
    many_feeds: int = 2000
    store_rows: int = 5000
    feed_entries: int = 5000
    gemm_size: int = 2048
    score_passages: int = 1000
    only: tuple[str, ...] = ()  # sections to run (empty: all)

    @classmethod
    def quick(cls, pages: int = 10) -> BenchConfig:
        """A fast subset run (used by the test): few pages, one repetition, small sizes."""
        return cls(repeats=1, pages=pages, store_rows=200, feed_entries=200, gemm_size=1024, many_feeds=100)


# ---------------------------------------------------------------- memory and machine


RUN_STAGES = ("end_to_end", "no_change")
"""Stages whose measured run is a child process of the bench (its memory is the run's)."""


class RssSampler:
    """Samples the summed RSS of this process and every descendant on a background thread."""

    def __init__(self, interval_s: float = 0.05) -> None:
        self.interval_s = interval_s
        self.stage = "setup"
        self.peak = 0
        self.stage_peaks: dict[str, int] = {}
        self.run_peaks: dict[str, int] = {}  # descendants only: a run the bench started as a process
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="axiswatch-rss", daemon=True)

    @staticmethod
    def rss() -> tuple[int, int]:
        """Bytes resident right now in this process, and in all its descendants together."""
        me = psutil.Process()
        children = 0
        for child in me.children(recursive=True):
            try:
                children += child.memory_info().rss
            except psutil.Error:
                continue
        return int(me.memory_info().rss), children

    def sample(self) -> int:
        """Take one sample and update the peaks; the summed RSS."""
        own, children = self.rss()
        total = own + children
        self.peak = max(self.peak, total)
        self.stage_peaks[self.stage] = max(self.stage_peaks.get(self.stage, 0), total)
        self.run_peaks[self.stage] = max(self.run_peaks.get(self.stage, 0), children)
        return total

    def _loop(self) -> None:
        """Sample until stopped."""
        while not self._stop.wait(self.interval_s):
            self.sample()

    def __enter__(self) -> RssSampler:
        self.sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()


def _cpu_model() -> str:
    """The CPU's model name (from /proc/cpuinfo where there is one)."""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_info(threads: int) -> dict[str, Any]:
    """CPU, cores, RAM, OS, Python, library versions and the torch threads used."""
    import torch

    torch.set_num_threads(threads)
    versions = {name: importlib.metadata.version(name) for name in VERSIONED}
    return {
        "cpu": _cpu_model(),
        "cores_logical": psutil.cpu_count(logical=True),
        "cores_physical": psutil.cpu_count(logical=False),
        "ram_gib": round(psutil.virtual_memory().total / 1024**3, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "versions": versions,
        "torch_threads": torch.get_num_threads(),
        "load_average_start": list(os.getloadavg()),
    }


Say = Callable[[str], None]


@contextmanager
def _stage(name: str, sampler: RssSampler, report: dict[str, Any], say: Say) -> Iterator[dict[str, Any]]:
    """Run one stage: label memory samples, record its figures, or its error (never raise)."""
    sampler.stage = name
    say(f"bench: {name} ...")
    figures: dict[str, Any] = {}
    started = time.perf_counter()
    try:
        yield figures
    except Exception as exc:  # one broken stage is reported and the others still run
        figures["error"] = f"{type(exc).__name__}: {exc}"
        say(f"bench: {name} failed: {figures['error']}")
    figures["stage_s"] = time.perf_counter() - started
    report["stages"][name] = figures


def run_bench(settings: Settings, config: BenchConfig, say: Say = lambda _m: None) -> dict[str, Any]:
    """Measure every stage on the loopback bench site; return the full report (JSON-able)."""
    workdir = settings.data_dir / "bench"
    workdir.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {"config": _config_json(settings, config), "stages": {}}
    report["machine"] = machine_info(settings.torch_threads)
    site = stages.open_site(config.pages, config.no_change_feeds)
    local = stages.stage_settings(settings, workdir)
    n = config.repeats
    try:
        sections: list[tuple[str, Callable[[], dict[str, Any]]]] = [
            ("no_change", lambda: runs.measure_no_change(settings, site, workdir, n)),
            ("many_feeds", lambda: measure_many_feeds(settings, workdir, config.many_feeds, n)),
            ("feed_parse", lambda: stages.measure_feed_parse(site.feed_bodies(), n, config.feed_entries)),
            ("fetch", lambda: stages.measure_fetch(local, [u for _, _, u in site.pages], n)),
            ("extract", lambda: stages.measure_extract(local, site.pages, n)),
            (
                "score",
                lambda: stages.measure_score(
                    settings, site.articles, n, config.gemm_size, config.score_passages
                ),
            ),
            (
                "store",
                lambda: stages.measure_store(
                    workdir, site.articles, config.store_rows, settings.batch_size, n
                ),
            ),
            ("end_to_end", lambda: runs.measure_end_to_end(settings, site, workdir, n)),
            ("scale", lambda: measure_scale(settings, site, workdir, n)),
        ]
        with RssSampler() as sampler:
            for name, measure in sections:
                if config.only and name not in config.only:
                    continue
                with _stage(name, sampler, report, say) as out:
                    out.update(measure())
    finally:
        site.server.stop()
        stages.clean_workdir(workdir)
    report["stages"]["memory"] = {
        "peak_rss_mib": sampler.peak / MIB,
        "stage_peak_rss_mib": {k: v / MIB for k, v in sampler.stage_peaks.items()},
        "run_peak_rss_mib": {k: v / MIB for k, v in sampler.run_peaks.items() if k in RUN_STAGES},
    }
    report["machine"]["load_average_end"] = list(os.getloadavg())
    return summarise(report)


def _config_json(settings: Settings, config: BenchConfig) -> dict[str, Any]:
    """The bench configuration and the settings that shape the figures."""
    names = ("fetch_workers", "extract_workers", "torch_threads", "batch_size", "model_version")
    out = {**config.__dict__, **{name: getattr(settings, name) for name in names}, "host_delay_seconds": 0.0}
    return {**out, "host_concurrency": max(settings.host_concurrency, settings.fetch_workers)}


def bench_command(
    settings: Settings,
    *,
    json_path: Path | None = None,
    quick: bool = False,
    pages: int | None = None,
    repeats: int | None = None,
    quiet: bool = False,
    only: Sequence[str] = (),
) -> int:
    """`axiswatch bench`: run, print the table, write JSON; exit 1 if a stage failed."""
    config = BenchConfig.quick(pages or 10) if quick else BenchConfig(pages=pages)
    if repeats is not None:
        config = BenchConfig(**{**config.__dict__, "repeats": max(1, repeats)})
    if only:
        config = BenchConfig(**{**config.__dict__, "only": tuple(only)})

    def say(message: str) -> None:
        if not quiet:
            print(message, file=sys.stderr, flush=True)

    report = run_bench(settings, config, say)
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(jsonout.dumps(report, indent=2) + "\n", encoding="utf-8")
    if not quiet:
        print(render(report))
    failed = any("error" in s for s in report["stages"].values())
    return 1 if failed else 0
