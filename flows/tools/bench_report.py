"""The benchmark's figures: per-stage summaries, targets met or missed, the printed table."""

from __future__ import annotations

import statistics
from collections.abc import Callable, Mapping, Sequence
from typing import Any

# ---------------------------------------------------------------- figures, targets, table


MIB = 1024 * 1024
# issue 24's targets for extraction, scoring (int8 against the fp32 limit), end to end, the no-change
# run and one run's memory; issue 22's for the lake; the first bench's for feeds and all processes
TARGETS: dict[str, tuple[str, float]] = {
    "extract_overhead": ("<=", 0.85),
    "score_fraction_of_limit": (">=", 1.0),
    "end_to_end_vs_score": (">=", 0.85),
    "no_change_beyond_startup_s": ("<=", 0.2),
    "many_feeds_no_change_s": ("<", 120.0),
    "peak_rss_mib": ("<", 2048.0),
    "run_peak_rss_mib": ("<=", 1100.0),
    "lake_over_file_ingest": ("<=", 1.5),
    "lake_2_over_lake_1": (">", 1.0),
}


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
    met = {
        "<=": value <= threshold,
        ">=": value >= threshold,
        "<": value < threshold,
        ">": value > threshold,
    }[op]
    return {"op": op, "threshold": threshold, "value": value, "status": "met" if met else "missed"}


def summarise(report: dict[str, Any]) -> dict[str, Any]:
    """Add rates, ratios and a table row to each measured stage; the top-level figures; verdicts."""
    st = report["stages"] = {k: report["stages"][k] for k in [*_SUMMARIES, "memory"] if k in report["stages"]}
    top: dict[str, float | None] = dict.fromkeys((*TARGETS, "no_change_run_s", "prefect_startup_s"))
    for name, fn in _SUMMARIES.items():
        if name in st and "error" not in st[name]:
            figures = fn(st[name])
            st[name]["target"] = next((k for k in reversed(figures) if k in TARGETS), None)
            top.update(figures)
    top["peak_rss_mib"] = st["memory"]["peak_rss_mib"] if "memory" in st else None
    runs = st["memory"].get("run_peak_rss_mib", {}) if "memory" in st else {}
    top["run_peak_rss_mib"] = max(runs.values()) if runs else None
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
    precision = s.get("precision", "fp32")
    beside, out = "", {"score_fraction_of_limit": fraction}
    if "predict_fp32_s" in s:
        s["fp32_tokens_per_s"] = s["minilm_tokens"] / median(s["predict_fp32_s"])
        out["score_fp32_fraction_of_limit"] = s["fp32_tokens_per_s"] / s["limit_tokens_per_s"]
        beside = f"; fp32 {s['fp32_tokens_per_s']:,.0f} tokens/s = {out['score_fp32_fraction_of_limit']:.2f}"
    s["row"] = [
        f"{s['passages_per_s']:.1f} passages/s, {s['tokens_per_s']:,.0f} tokens/s (MiniLM {precision})",
        f"fp32 limit {s['limit_tokens_per_s']:,.0f} tokens/s = {peak / 1e9:.1f} GFLOP/s"
        f" / {flops / 1e6:.1f} MFLOP/token" + (" (int8 may exceed 1.0)" if precision == "int8" else ""),
        f"{fraction:.2f}{beside}",
    ]
    return out


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
        f"score alone {s['score_alone_articles_per_s']:.2f} articles/s; "
        f"ingest then score {s['articles_scored'] / median(s['sequential_s']):.2f}",
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


def _scale(s: dict[str, Any]) -> dict[str, float]:
    c, w = s["commit"], s["workers"]
    lake_file = w["lake_1"]["ingest_s"] / w["file_1"]["ingest_s"]
    w["lake_over_file_ingest"] = lake_file
    s["row"] = [
        f"lake: 1 process {w['lake_1']['articles_per_s']:.2f}, 2 processes"
        f" {w['lake_2']['articles_per_s']:.2f} articles/s ({w['lake_2']['articles']} articles)",
        f"file, 1 process {w['file_1']['articles_per_s']:.2f} articles/s; ingest lake/file "
        f"{lake_file:.2f} (<= 1.5); store_article {c['lake_ms_per_article']:.0f} ms lake, "
        f"{c['file_ms_per_article']:.0f} ms file",
        f"{w['lake_2_over_lake_1']:.2f} (2 vs 1)",
    ]
    return {"lake_over_file_ingest": lake_file, "lake_2_over_lake_1": w["lake_2_over_lake_1"]}


_SUMMARIES: dict[str, Callable[[dict[str, Any]], dict[str, float]]] = {
    "feed_parse": _feed_parse,
    "fetch": _fetch,
    "extract": _extract,
    "score": _score,
    "store": _store,
    "end_to_end": _end_to_end,
    "no_change": _no_change,
    "many_feeds": _many_feeds,
    "scale": _scale,
}


def table_rows(report: dict[str, Any]) -> list[list[str]]:
    """[stage, figure, reference, ratio, target, status] rows of the printed table."""
    rows = []
    memory = report["stages"]["memory"]
    peaks = memory.get("run_peak_rss_mib", {})
    runs = ", ".join(
        f"{k.replace('_', ' ')} {peaks[k]:,.0f} MiB" for k in ("end_to_end", "no_change") if k in peaks
    )
    memory["row"] = [f"{report['peak_rss_mib']:,.0f} MiB peak RSS, all processes", "", ""]
    if runs:
        one = report["run_peak_rss_mib"]
        memory["run_row"] = [f"{one:,.0f} MiB peak RSS of one run", f"its own processes: {runs}", ""]
    memory["target"] = "peak_rss_mib"
    for name, s in report["stages"].items():
        row = s.get("row") or [f"error: {s.get('error', 'not measured')}"[:100], "", ""]
        t = report["targets"].get(s.get("target") or "")
        verdict = [f"{t['op']} {t['threshold']:g}", t["status"]] if t else ["", ""]
        rows.append([name.replace("_", " "), *row, *verdict])
        if s.get("run_row"):
            t = report["targets"]["run_peak_rss_mib"]
            rows.append(["one run", *s["run_row"], f"{t['op']} {t['threshold']:g}", t["status"]])
    return rows


def render(report: dict[str, Any]) -> str:
    """The printed report: the table, then the machine it ran on."""
    import flows.cli.texttable as texttable

    m, cfg = report["machine"], report["config"]
    head = ["stage", "figure", "reference", "ratio", "target", "status"]
    return "\n".join(
        [
            texttable.table(head, [[str(c) for c in r] for r in table_rows(report)], max_width=0),
            f"\nmedians of {cfg['repeats']} run(s); {m['cpu']}, {m['cores_logical']} cores,"
            f" {m['ram_gib']} GiB RAM, torch threads {m['torch_threads']}, Python {m['python']}",
            ", ".join(f"{k} {v}" for k, v in m["versions"].items()),
            f"load average {m['load_average_start'][0]:.2f} at start, {m['load_average_end'][0]:.2f} at end",
        ]
    )
