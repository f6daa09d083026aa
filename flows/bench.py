"""`axiswatch bench`: stage-by-stage throughput and memory on this machine, against its limits.

Serves the 181 real pages of the extraction benchmark and the demo feeds on loopback
(flows/bench_stages.py does each stage) and reports every figure as the median of
``repeats`` runs. How the ratios are defined (the targets come from the bench issue):

- ``extract_overhead`` = wall seconds of our path (``Extractor``: decode + trafilatura with
  metadata, in ``extract_workers`` worker processes) / wall seconds of plain
  ``trafilatura.extract`` (defaults) on the same pages, sequentially in this process.
  ``extract_cpu_ratio`` compares CPU seconds instead (all processes), i.e. cost per page.
- ``score_fraction_of_limit`` = MiniLM tokens/s of ``StanceClassifier.predict_passages``
  (everything it does, the USE encoder and the heads included) / the compute limit, where the
  limit = float32 GEMM peak (FLOP/s, at the torch thread count used) / MiniLM FLOPs per token.
- ``end_to_end_vs_score`` = articles/s of ingest + score into a fresh warehouse / articles/s of
  the score stage alone on the same articles = score seconds / (ingest + score seconds); the
  two stages run one after the other as plain functions, each timed.
- ``no_change_beyond_startup_s`` = seconds of `axiswatch run` (fresh process) when every feed
  answers 304 − seconds of a trivial Prefect flow in a fresh process with the same environment.
- ``many_feeds_no_change_s`` = seconds of `axiswatch run` (fresh process, Prefect start
  included) polling 2,000 item-less loopback feeds that all answer 304 (flows/bench_feeds.py).
- ``peak_rss_mib`` = peak of the summed RSS of this process and all its descendants
  (extraction workers, the `axiswatch run` children), sampled every 50 ms.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import platform
import statistics
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

from flows import bench_stages as stages
from flows.bench_feeds import measure_many_feeds
from flows.settings import Settings

MIB = 1024 * 1024
TARGETS: dict[str, tuple[str, float]] = {
    "extract_overhead": ("<=", 1.10),
    "score_fraction_of_limit": (">=", 0.40),
    "end_to_end_vs_score": (">=", 0.70),
    "no_change_beyond_startup_s": ("<", 5.0),
    "many_feeds_no_change_s": ("<", 120.0),
    "peak_rss_mib": ("<", 2048.0),
}
VERSIONED = ("torch", "transformers", "duckdb", "trafilatura", "prefect", "numpy")


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

    @classmethod
    def quick(cls, pages: int = 10) -> BenchConfig:
        """A fast subset run (used by the test): few pages, one repetition, small sizes."""
        return cls(repeats=1, pages=pages, store_rows=200, feed_entries=200, gemm_size=1024, many_feeds=100)


def median(values: Sequence[float]) -> float:
    """Median of a non-empty sequence (mean of the two middle values for an even count)."""
    if not values:
        raise ValueError("median of no values")
    return float(statistics.median(values))


def effective_seq_len(lengths: Sequence[int]) -> float:
    """Token-weighted mean sequence length Σn²/Σn: the length a token's attention spans on average."""
    total = sum(lengths)
    return sum(n * n for n in lengths) / total if total else 0.0


def encoder_flops_per_token(config: Mapping[str, Any], seq_len: float) -> float:
    """FLOPs per token of a BERT encoder forward pass (2 FLOPs per multiply-add).

    Per layer: Q, K, V and output projections (4·H²) and the feed-forward pair (2·H·I) are
    matmuls on every token: 2·(4H² + 2HI); attention scores QKᵀ and their product with V cost
    2·n·H each per token for a sequence of n tokens: 4·n·H. Times L layers. Embeddings,
    layer norms, softmax, GELU and biases are left out (< 1%). For all-MiniLM-L6-v2 (H=384,
    I=1536, L=6) that is 21.2 MFLOP + 9216·n, e.g. 23.6 MFLOP/token at n = 256.
    """
    h, i, layers = config["hidden_size"], config["intermediate_size"], config["num_hidden_layers"]
    return float(layers * (2 * (4 * h * h + 2 * h * i) + 4 * seq_len * h))


def extract_overhead(ours_s: float, plain_s: float) -> float:
    """Our extraction wall time over plain trafilatura's on the same pages."""
    return ours_s / plain_s


def score_fraction_of_limit(tokens_per_s: float, peak_flops_per_s: float, flops_per_token: float) -> float:
    """Measured tokens/s over the compute limit (GEMM peak / FLOPs per token)."""
    return tokens_per_s / (peak_flops_per_s / flops_per_token)


def end_to_end_vs_score(e2e_s: float, score_alone_s: float) -> float:
    """End-to-end articles/s over score-alone articles/s for the same articles."""
    return score_alone_s / e2e_s


def check_target(name: str, value: float | None) -> dict[str, Any]:
    """A target's verdict: met, missed, or not measured (value None)."""
    op, threshold = TARGETS[name]
    if value is None:
        return {"op": op, "threshold": threshold, "value": None, "status": "not measured"}
    met = {"<=": value <= threshold, ">=": value >= threshold, "<": value < threshold}[op]
    return {"op": op, "threshold": threshold, "value": value, "status": "met" if met else "missed"}


# ---------------------------------------------------------------- memory and machine


class RssSampler:
    """Samples the summed RSS of this process and every descendant on a background thread."""

    def __init__(self, interval_s: float = 0.05) -> None:
        self.interval_s = interval_s
        self.stage = "setup"
        self.peak = 0
        self.stage_peaks: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="axiswatch-rss", daemon=True)

    @staticmethod
    def total_rss() -> int:
        """Bytes resident in this process and its descendants right now."""
        me = psutil.Process()
        total = int(me.memory_info().rss)
        for child in me.children(recursive=True):
            try:
                total += child.memory_info().rss
            except psutil.Error:
                continue
        return total

    def sample(self) -> int:
        """Take one sample and update the peaks."""
        rss = self.total_rss()
        self.peak = max(self.peak, rss)
        self.stage_peaks[self.stage] = max(self.stage_peaks.get(self.stage, 0), rss)
        return rss

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
        with RssSampler() as sampler:
            with _stage("no_change", sampler, report, say) as out:
                out.update(stages.measure_no_change(settings, site, workdir, n))
            with _stage("many_feeds", sampler, report, say) as out:
                out.update(measure_many_feeds(settings, workdir, config.many_feeds, n))
            with _stage("feed_parse", sampler, report, say) as out:
                out.update(stages.measure_feed_parse(site.feed_bodies(), n, config.feed_entries))
            with _stage("fetch", sampler, report, say) as out:
                out.update(stages.measure_fetch(local, [u for _, _, u in site.pages], n))
            with _stage("extract", sampler, report, say) as out:
                out.update(stages.measure_extract(local, site.pages, n))
            with _stage("score", sampler, report, say) as out:
                out.update(
                    stages.measure_score(settings, site.articles, n, config.gemm_size, config.score_passages)
                )
            with _stage("store", sampler, report, say) as out:
                out.update(
                    stages.measure_store(workdir, site.articles, config.store_rows, settings.batch_size, n)
                )
            with _stage("end_to_end", sampler, report, say) as out:
                out.update(stages.measure_end_to_end(settings, site, workdir, n))
    finally:
        site.server.stop()
        stages.clean_workdir(workdir)
    report["stages"]["memory"] = {
        "peak_rss_mib": sampler.peak / MIB,
        "stage_peak_rss_mib": {k: v / MIB for k, v in sampler.stage_peaks.items()},
    }
    report["machine"]["load_average_end"] = list(os.getloadavg())
    return summarise(report)


def _config_json(settings: Settings, config: BenchConfig) -> dict[str, Any]:
    """The bench configuration and the settings that shape the figures."""
    names = ("fetch_workers", "extract_workers", "torch_threads", "batch_size", "model_version")
    out = {**config.__dict__, **{name: getattr(settings, name) for name in names}, "host_delay_seconds": 0.0}
    return {**out, "host_concurrency": max(settings.host_concurrency, settings.fetch_workers)}


# ---------------------------------------------------------------- figures, targets, table


def summarise(report: dict[str, Any]) -> dict[str, Any]:
    """Add rates, ratios and a table row to each measured stage; the top-level figures; verdicts."""
    st = report["stages"] = {k: report["stages"][k] for k in [*_SUMMARIES, "memory"] if k in report["stages"]}
    top: dict[str, float | None] = dict.fromkeys((*TARGETS, "no_change_run_s", "prefect_startup_s"))
    for name, fn in _SUMMARIES.items():
        if name in st and "error" not in st[name]:
            figures = fn(st[name])
            st[name]["target"] = next((k for k in reversed(figures) if k in TARGETS), None)
            top.update(figures)
    top["peak_rss_mib"] = st["memory"]["peak_rss_mib"]
    report.update(top)
    report["targets"] = {name: check_target(name, top[name]) for name in TARGETS}
    return report


def _feed_parse(s: dict[str, Any]) -> dict[str, float]:
    s["entries_per_s"] = s["entries"] / median(s["seconds"])
    s["row"] = [f"{s['entries_per_s']:,.0f} entries/s ({s['feeds']} feeds)", "", ""]
    return {}


def _fetch(s: dict[str, Any]) -> dict[str, float]:
    s["pages_per_s"] = s["pages"] / median(s["seconds"])
    s["mib_per_s"] = s["bytes"] / MIB / median(s["seconds"])
    s["row"] = [f"{s['pages_per_s']:,.1f} pages/s ({s['mib_per_s']:.1f} MiB/s)", "", ""]
    return {}


def _extract(s: dict[str, Any]) -> dict[str, float]:
    ours, plain = median(s["ours_s"]), median(s["plain_s"])
    s["ours_pages_per_s"], s["plain_pages_per_s"] = s["pages"] / ours, s["pages"] / plain
    s["extract_cpu_ratio"] = median(s["ours_cpu_s"]) / median(s["plain_cpu_s"])
    overhead = extract_overhead(ours, plain)
    s["row"] = [
        f"{s['ours_pages_per_s']:.1f} pages/s ({s['workers']} worker processes)",
        f"plain trafilatura {s['plain_pages_per_s']:.1f} pages/s (1 process)",
        f"{overhead:.2f} wall ({s['extract_cpu_ratio']:.2f} cpu)",
    ]
    return {"extract_overhead": overhead}


def _score(s: dict[str, Any]) -> dict[str, float]:
    lengths, cfg = s.pop("minilm_token_lengths"), s["minilm_config"]
    s["minilm_tokens"], s["effective_seq_len"] = sum(lengths), effective_seq_len(lengths)
    flops = s["flops_per_token"] = encoder_flops_per_token(cfg, s["effective_seq_len"])
    peak, predict = median(s["gemm_flops_per_s"]), median(s["predict_s"])
    s["limit_tokens_per_s"] = peak / flops
    s["passages_per_s"], s["tokens_per_s"] = s["passages"] / predict, s["minilm_tokens"] / predict
    s["minilm_forward_fraction_of_limit"] = (
        s["minilm_tokens"] / s["minilm_forward_s"] / s["limit_tokens_per_s"]
    )
    s["time_shares"] = {k: s[f"{k}_s"] / predict for k in ("minilm_forward", "use", "language")}
    fraction = score_fraction_of_limit(s["tokens_per_s"], peak, flops)
    s["row"] = [
        f"{s['passages_per_s']:.1f} passages/s, {s['tokens_per_s']:,.0f} tokens/s",
        f"limit {s['limit_tokens_per_s']:,.0f} tokens/s = {peak / 1e9:.1f} GFLOP/s"
        f" / {flops / 1e6:.1f} MFLOP/token",
        f"{fraction:.2f}",
    ]
    return {"score_fraction_of_limit": fraction}


def _store(s: dict[str, Any]) -> dict[str, float]:
    s["rows_per_s"] = s["rows"] / median(s["seconds"])
    s["row"] = [f"{s['rows_per_s']:,.0f} rows/s ({s['batch_rows']} rows per transaction)", "", ""]
    return {}


def _end_to_end(s: dict[str, Any]) -> dict[str, float]:
    e2e, alone = median(s["e2e_s"]), median(s["score_s"])
    s["articles_per_s"] = s["articles_scored"] / e2e
    s["score_alone_articles_per_s"] = s["articles_scored"] / alone
    ratio = end_to_end_vs_score(e2e, alone)
    s["row"] = [
        f"{s['articles_per_s']:.2f} articles/s ({s['articles_scored']} articles)",
        f"score alone {s['score_alone_articles_per_s']:.2f} articles/s",
        f"{ratio:.2f}",
    ]
    return {"end_to_end_vs_score": ratio}


def _no_change(s: dict[str, Any]) -> dict[str, float]:
    run, startup = median(s["run_s"]), median(s["prefect_startup_s"])
    s["row"] = [f"{run:.1f} s ({s['feeds']} feeds, all 304)", f"Prefect startup {startup:.1f} s"]
    s["row"].append(f"{run - startup:+.1f} s")
    return {"no_change_run_s": run, "prefect_startup_s": startup, "no_change_beyond_startup_s": run - startup}


def _many_feeds(s: dict[str, Any]) -> dict[str, float]:
    run = median(s["run_s"])
    s["row"] = [f"{run:.1f} s ({s['feeds']:,} feeds, all 304, Prefect start included)", "", ""]
    return {"many_feeds_no_change_s": run}


_SUMMARIES: dict[str, Callable[[dict[str, Any]], dict[str, float]]] = {
    "feed_parse": _feed_parse,
    "fetch": _fetch,
    "extract": _extract,
    "score": _score,
    "store": _store,
    "end_to_end": _end_to_end,
    "no_change": _no_change,
    "many_feeds": _many_feeds,
}


def table_rows(report: dict[str, Any]) -> list[list[str]]:
    """[stage, figure, reference, ratio, target, status] rows of the printed table."""
    rows = []
    memory = report["stages"]["memory"]
    memory["row"] = [f"{report['peak_rss_mib']:,.0f} MiB peak RSS, all processes", "", ""]
    memory["target"] = "peak_rss_mib"
    for name, s in report["stages"].items():
        row = s.get("row") or [f"error: {s.get('error', 'not measured')}"[:100], "", ""]
        t = report["targets"].get(s.get("target") or "")
        verdict = [f"{t['op']} {t['threshold']:g}", t["status"]] if t else ["", ""]
        rows.append([name.replace("_", " "), *row, *verdict])
    return rows


def render(report: dict[str, Any]) -> str:
    """The printed report: the table, then the machine it ran on."""
    from flows.demo_run import table

    m, cfg = report["machine"], report["config"]
    head = ["stage", "figure", "reference", "ratio", "target", "status"]
    return "\n".join(
        [
            table([tuple(r) for r in table_rows(report)], head),
            f"\nmedians of {cfg['repeats']} run(s); {m['cpu']}, {m['cores_logical']} cores,"
            f" {m['ram_gib']} GiB RAM, torch threads {m['torch_threads']}, Python {m['python']}",
            ", ".join(f"{k} {v}" for k, v in m["versions"].items()),
            f"load average {m['load_average_start'][0]:.2f} at start, {m['load_average_end'][0]:.2f} at end",
        ]
    )


def bench_command(
    settings: Settings,
    *,
    json_path: Path | None = None,
    quick: bool = False,
    pages: int | None = None,
    repeats: int | None = None,
    quiet: bool = False,
) -> int:
    """`axiswatch bench`: run, print the table, write JSON; exit 1 if a stage failed."""
    config = BenchConfig.quick(pages or 10) if quick else BenchConfig(pages=pages)
    if repeats is not None:
        config = BenchConfig(**{**config.__dict__, "repeats": max(1, repeats)})

    def say(message: str) -> None:
        if not quiet:
            print(message, file=sys.stderr, flush=True)

    report = run_bench(settings, config, say)
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8")
    if not quiet:
        print(render(report))
    failed = any("error" in s for s in report["stages"].values())
    return 1 if failed else 0
