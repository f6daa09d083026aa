"""`axiswatch bench`: the pure helpers (median, FLOP formula, ratios, targets) and a --quick run."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from flows.cli.commands import main
from flows.tools import bench, bench_report
from flows.tools.bench_runs import _check_no_change

MINILM = {"hidden_size": 384, "intermediate_size": 1536, "num_hidden_layers": 6}
REQUIRED = (
    "extract_overhead",
    "score_fraction_of_limit",
    "end_to_end_vs_score",
    "no_change_run_s",
    "prefect_startup_s",
    "peak_rss_mib",
    "run_peak_rss_mib",
)


def test_median_of_odd_and_even_counts() -> None:
    assert bench_report.median([3.0, 1.0, 2.0]) == 2.0
    assert bench_report.median([4.0, 1.0, 3.0, 2.0]) == 2.5
    with pytest.raises(ValueError, match="no values"):
        bench_report.median([])


def test_flops_per_token_of_minilm() -> None:
    matmuls = 2 * 6 * (4 * 384**2 + 2 * 384 * 1536)  # 2 × parameters in matmuls
    assert bench_report.encoder_flops_per_token(MINILM, 0) == matmuls == 21_233_664
    at_256 = bench_report.encoder_flops_per_token(MINILM, 256)
    assert at_256 == matmuls + 4 * 6 * 384 * 256
    assert round(at_256 / 1e6, 1) == 23.6  # the figure the issue quotes for all-MiniLM-L6-v2
    tiny = {"hidden_size": 2, "intermediate_size": 4, "num_hidden_layers": 1}
    assert bench_report.encoder_flops_per_token(tiny, 3) == 2 * (4 * 4 + 2 * 2 * 4) + 4 * 3 * 2


def test_effective_sequence_length_weights_by_tokens() -> None:
    assert bench_report.effective_seq_len([1, 3]) == pytest.approx(2.5)
    assert bench_report.effective_seq_len([100] * 5) == 100
    assert bench_report.effective_seq_len([]) == 0.0


def test_ratio_definitions() -> None:
    assert bench_report.extract_overhead(ours_s=11.0, plain_s=10.0) == pytest.approx(1.1)
    # 100 GFLOP/s / 25 MFLOP per token = 4000 tokens/s limit; 1000 tokens/s is a quarter of it
    assert bench_report.score_fraction_of_limit(1000.0, 100e9, 25e6) == pytest.approx(0.25)
    # same articles: e2e 10 s, score alone 7 s -> e2e reaches 70% of the score stage's rate
    assert bench_report.end_to_end_vs_score(e2e_s=10.0, score_alone_s=7.0) == pytest.approx(0.7)


def test_targets_met_missed_and_not_measured() -> None:
    assert bench_report.check_target("extract_overhead", 0.85)["status"] == "met"
    assert bench_report.check_target("extract_overhead", 0.86)["status"] == "missed"
    assert bench_report.check_target("score_fraction_of_limit", 0.99)["status"] == "missed"
    assert bench_report.check_target("score_fraction_of_limit", 1.0)["status"] == "met"  # int8 past fp32
    assert bench_report.check_target("end_to_end_vs_score", 0.84)["status"] == "missed"
    assert bench_report.check_target("no_change_beyond_startup_s", 0.2)["status"] == "met"
    assert bench_report.check_target("no_change_beyond_startup_s", 0.8)["status"] == "missed"
    assert bench_report.check_target("peak_rss_mib", 1500.0)["status"] == "met"
    assert bench_report.check_target("end_to_end_vs_score", None)["status"] == "not measured"
    assert bench_report.check_target("lake_over_file_ingest", 1.5)["status"] == "met"
    assert bench_report.check_target("lake_2_over_lake_1", 1.0)["status"] == "missed"  # faster, not as fast
    assert bench_report.check_target("lake_2_over_lake_1", 1.2)["status"] == "met"


def test_score_summary_reports_int8_against_the_fp32_limit_with_fp32_beside() -> None:
    # 10,000 tokens in 1 s (int8) and 4 s (fp32); a 100 GFLOP/s GEMM peak
    stage = {"passages": 100, "minilm_token_lengths": [100] * 100, "minilm_config": MINILM}
    stage.update(precision="int8", predict_s=[1.0], predict_fp32_s=[4.0], gemm_flops_per_s=[100e9])
    stage.update(minilm_forward_s=0.7, use_s=0.2, language_s=0.01)
    figures = bench_report._score(stage)
    limit = 100e9 / bench_report.encoder_flops_per_token(MINILM, 100.0)
    assert figures["score_fraction_of_limit"] == pytest.approx(10_000 / limit)
    assert figures["score_fp32_fraction_of_limit"] == pytest.approx(2_500 / limit)
    assert figures["score_fraction_of_limit"] > 1.0  # int8 above the fp32 limit is reported as such
    assert "MiniLM int8" in stage["row"][0] and "int8 may exceed 1.0" in stage["row"][1]
    assert "fp32 2,500 tokens/s" in stage["row"][2]


def test_no_change_check_refuses_a_run_that_changed_something() -> None:
    ok = {"not_modified": 20, "discovered": 0, "fetched": 0}
    assert _check_no_change(json.dumps(ok), 20) == ok
    with pytest.raises(RuntimeError, match="not a no-change run"):
        _check_no_change(json.dumps({**ok, "not_modified": 19}), 20)
    with pytest.raises(RuntimeError, match="not a no-change run"):
        _check_no_change("log line\n" + json.dumps({**ok, "discovered": 3}), 20)


def test_rss_sampler_counts_child_processes() -> None:
    hog = "b = bytearray(300 * 1024 * 1024); print('ready', flush=True); import time; time.sleep(30)"
    child = subprocess.Popen([sys.executable, "-c", hog], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        own = psutil.Process().memory_info().rss
        sampler = bench.RssSampler()
        assert sampler.sample() >= own + 250 * 1024 * 1024
        assert sampler.peak >= own + 250 * 1024 * 1024
    finally:
        child.kill()
        child.wait()


@pytest.mark.slow
def test_quick_bench_writes_every_figure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AXISWATCH_EXTRACT_WORKERS", "1")
    out = tmp_path / "bench.json"
    assert main(["bench", "--quick", "--data-dir", str(tmp_path / "var"), "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    for key in REQUIRED:
        value = report[key]
        assert isinstance(value, float) and math.isfinite(value) and value > 0, (key, value)
    assert 0.05 < report["extract_overhead"] < 20
    assert 0 < report["score_fraction_of_limit"] < 4  # of the fp32 limit: int8 may exceed 1.0
    assert 0 < report["score_fp32_fraction_of_limit"] < 1.5  # the fp32 path timed beside it
    assert 0 < report["end_to_end_vs_score"] < 1.5
    assert 100 < report["peak_rss_mib"] < 64 * 1024
    runs = report["stages"]["memory"]["run_peak_rss_mib"]
    assert set(runs) == {"end_to_end", "no_change"}  # each measured run is a process of its own
    assert 100 < report["run_peak_rss_mib"] == max(runs.values()) < report["peak_rss_mib"]
    assert set(report["targets"]) == set(bench_report.TARGETS)
    assert all(t["status"] in ("met", "missed") for t in report["targets"].values())
    stages = report["stages"]
    assert not [name for name, s in stages.items() if "error" in s]
    assert stages["extract"]["pages"] == 10 and stages["fetch"]["pages"] == 10
    assert stages["no_change"]["feeds"] == 20 and stages["no_change"]["result"]["not_modified"] == 20
    assert stages["many_feeds"]["feeds"] == 100 and stages["many_feeds"]["result"]["not_modified"] == 100
    assert report["many_feeds_no_change_s"] > 0
    assert stages["end_to_end"]["articles_scored"] > 0 and stages["score"]["tokens_per_s"] > 0
    assert stages["score"]["precision"] == "int8" and stages["score"]["fp32_tokens_per_s"] > 0
    scale = stages["scale"]  # a real PostgreSQL, a real lake: each store and each shard process measured
    assert scale["commit"]["lake_ms_per_article"] > 0 and scale["commit"]["file_ms_per_article"] > 0
    stored = {label: scale["workers"][label]["articles"] for label in ("file_1", "lake_1", "lake_2")}
    assert len(set(stored.values())) == 1 and stored["lake_2"] > 0, stored  # same corpus, stored once
    machine = report["machine"]
    assert machine["cores_logical"] >= 1 and machine["ram_gib"] > 0 and machine["torch_threads"] >= 1
    assert {"torch", "transformers", "duckdb", "trafilatura", "prefect"} <= set(machine["versions"])
    rows = {line.split("  ")[0]: line for line in capsys.readouterr().out.splitlines()}
    assert rows["scale"].startswith("scale") and "articles/s" in rows["scale"]
    for stage in ("extract", "score", "end to end", "no change", "many feeds", "memory"):  # with a target
        assert rows[stage].endswith((" met", " missed")), rows[stage]
