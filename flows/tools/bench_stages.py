"""The stages `axiswatch bench` measures, each on the loopback bench site (see flows/tools/bench.py).

Every ``measure_*`` function times its work ``repeats`` times and returns plain figures
(lists of seconds, counts); flows/tools/bench_report.py takes medians, ratios and checks the targets.
Nothing here talks to anything but the LoopbackServer it starts on 127.0.0.1.
"""

from __future__ import annotations

import functools
import gzip
import json
import math
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

from flows.settings import Settings
from flows.tools import demo_site as demo
from flows.tools.loopback import LoopbackServer
from warehouse import query
from warehouse.db import now_utc

QUICK_STANCE_FEEDS = 4  # in a subset run, this many small demo feeds join the page feed
SUBPROCESS_TIMEOUT_S = 600.0
PROBE_CODE = """\
import sys
from flows.orchestration.prefect_env import configure
from flows.settings import Settings
configure(Settings.load(data_dir=sys.argv[1]))
from prefect import flow
@flow(name="axiswatch-bench-noop")
def noop() -> int:
    return 0
noop()
"""
Page = tuple[bytes, dict[str, str], str]


@dataclass
class BenchSite:
    """The bench corpus served on loopback: feeds for the pipeline, benchmark pages, articles."""

    server: LoopbackServer
    feeds: list[demo.DemoFeed]  # what the end-to-end run polls
    no_change_feeds: list[demo.DemoFeed]  # what the no-change run polls
    pages: list[Page]  # (html, headers, url) of the benchmark pages
    articles: list[str]  # ground-truth text of the same pages

    def feed_bodies(self) -> list[Page]:
        """(body, headers, url) of every end-to-end feed, exactly as served."""
        ctype = "application/rss+xml; charset="
        base = self.server.base_url
        return [
            (
                demo.render_feed(f, base),
                {"content-type": ctype + f.encoding},
                f"{base}/feeds/{f.source_id}.xml",
            )
            for f in self.feeds
        ]


def open_site(pages: int | None, no_change_feeds: int) -> BenchSite:
    """Start a loopback server with the demo site; ``pages`` limits the benchmark pages used."""
    server = LoopbackServer(host="127.0.0.1", port=0).start()
    try:
        return _fill_site(server, pages, no_change_feeds)
    except BaseException:
        server.stop()
        raise


def _fill_site(server: LoopbackServer, pages: int | None, no_change_feeds: int) -> BenchSite:
    """Register the demo site and pick the feeds and pages of this run."""
    now = now_utc()
    site = demo.build_site(server, now)
    files = sorted((demo.BENCH_DIR / "html").glob("*.html.gz"))[:pages]
    keys = [f.name.split(".")[0] for f in files]
    truth = json.loads((demo.BENCH_DIR / "ground-truth.json").read_text(encoding="utf-8"))
    small = [f for f in site if not f.source_id.startswith("noise-")]
    if len(small) < no_change_feeds:
        raise ValueError(f"the demo has {len(small)} small feeds; cannot poll {no_change_feeds}")
    feeds = site if pages is None else [*small[:QUICK_STANCE_FEEDS], _page_feed(server, keys, now)]
    served = [
        (gzip.decompress(f.read_bytes()), {"content-type": "text/html"}, server.url(f"/noise/{k}.html"))
        for f, k in zip(files, keys, strict=True)
    ]
    articles = [str(truth.get(k, {}).get("articleBody", "")) for k in keys]
    return BenchSite(server, feeds, small[:no_change_feeds], served, articles)


def _page_feed(server: LoopbackServer, keys: Sequence[str], now: Any) -> demo.DemoFeed:
    """One feed linking the chosen benchmark pages (for a subset run)."""
    feed = demo.DemoFeed("bench-pages", "Benchmark pages", "ZZ", "en", "blog", "independent")
    for key in keys:
        url = server.url(f"/noise/{key}.html")
        feed.items.append(demo.render_item(f"bench:{key}", url, key, demo.synthetic_date(key, now), None))
    body = demo.render_feed(feed, server.base_url)
    server.route("/feeds/bench-pages.xml", body, content_type="application/rss+xml; charset=utf-8")
    return feed


def stage_settings(base: Settings, data_dir: Path) -> Settings:
    """Settings for one bench stage: its own data dir and warehouse, loopback only, no delays.

    All pages sit on one host, so per-host concurrency is raised to ``fetch_workers`` to stand
    for a crawl over many hosts (politeness is not a machine limit).
    """
    changes: dict[str, Any] = {"db_path": None, "reports_dir": None, "allow_hosts": ("127.0.0.1",)}
    changes.update(host_delay_seconds=0.0, poll_interval_minutes=0.0, retries=0)
    changes["host_concurrency"] = max(base.host_concurrency, base.fetch_workers)
    return base.replace(data_dir=data_dir, sources_file=data_dir / "sources.toml", **changes)


def settings_json(run: Settings) -> str:
    """The given settings as JSON, for a child process's ``Settings.load(env={}, **json.loads(...))``."""
    return json.dumps({k: v for k, v in run.model_dump(mode="json").items() if v is not None})


def clean_workdir(workdir: Path) -> None:
    """Delete a run's warehouses and work files; keep Prefect's database (warm for next time)."""
    for child in workdir.iterdir() if workdir.is_dir() else []:
        if child.name != "prefect":
            shutil.rmtree(child, ignore_errors=True)


def fresh_dir(path: Path) -> Path:
    """Empty (create) a bench working directory."""
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """Wall seconds of one call of ``fn`` and its result."""
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


# ---------------------------------------------------------------- feed parse, fetch, extract


def measure_feed_parse(bodies: Sequence[Page], repeats: int, min_entries: int) -> dict[str, Any]:
    """parse_feed over every feed body, looped until at least ``min_entries`` entries per run."""
    from flows.ingest.feeds import parse_feed

    def once() -> int:
        return sum(len(parse_feed(b, h, u).entries) for b, h, u in bodies)

    per_pass = once()
    passes = max(1, math.ceil(min_entries / max(1, per_pass)))
    seconds = [timed(lambda: [once() for _ in range(passes)])[0] for _ in range(repeats)]
    return {"feeds": len(bodies), "entries": per_pass * passes, "passes": passes, "seconds": seconds}


def measure_fetch(settings: Settings, urls: Sequence[str], repeats: int) -> dict[str, Any]:
    """Fetcher.fetch_many over loopback, a fresh client (and robots.txt) per run."""
    from flows.ingest.fetch import Fetcher

    seconds, ok, size = [], 0, 0
    for _ in range(repeats):
        with Fetcher(settings) as fetcher:
            elapsed, results = timed(functools.partial(fetcher.fetch_many, list(urls)))
        seconds.append(elapsed)
        ok, size = sum(r.ok for r in results), sum(len(r.body) for r in results)
        if ok != len(urls):
            failed = next(r for r in results if not r.ok)
            raise RuntimeError(
                f"fetch: {len(urls) - ok} of {len(urls)} pages failed ({failed.error_message})"
            )
    return {"pages": ok, "bytes": size, "workers": settings.fetch_workers, "seconds": seconds}


def _cpu_seconds() -> float:
    """CPU seconds used so far by this process and its live descendants."""
    me = psutil.Process()
    total = float(sum(me.cpu_times()[:2]))
    for child in me.children(recursive=True):
        try:
            total += sum(child.cpu_times()[:2])
        except psutil.Error:
            continue
    return total


def _plain_extract(bodies: Sequence[bytes]) -> int:
    """Plain ``trafilatura.extract`` (defaults) on each page in this process; pages with text."""
    import trafilatura

    return sum(bool(trafilatura.extract(body)) for body in bodies)


def measure_extract(settings: Settings, pages: Sequence[Page], repeats: int) -> dict[str, Any]:
    """Our path (Extractor: decode + trafilatura in worker processes) and plain trafilatura,
    interleaved in each run; wall seconds and CPU seconds (all processes) of both."""
    from flows.ingest.extract import Extracted
    from flows.ingest.extract_pool import Extractor

    bodies = [body for body, _, _ in pages]
    out: dict[str, Any] = {"pages": len(pages), "workers": max(1, settings.extract_workers)}
    out.update(ours_s=[], ours_cpu_s=[], plain_s=[], plain_cpu_s=[])
    with Extractor(settings) as extractor:
        out["worker_start_s"] = timed(lambda: extractor.extract_many(list(pages[:1])))[0]
        for _ in range(repeats):
            cpu = _cpu_seconds()
            elapsed, results = timed(lambda: extractor.extract_many(list(pages)))
            out["ours_s"].append(elapsed)
            out["ours_cpu_s"].append(_cpu_seconds() - cpu)
            out["ours_ok"] = sum(isinstance(r, Extracted) for r in results)
            cpu = time.process_time()
            elapsed, out["plain_ok"] = timed(lambda: _plain_extract(bodies))
            out["plain_s"].append(elapsed)
            out["plain_cpu_s"].append(time.process_time() - cpu)
    return out


# ---------------------------------------------------------------- score and the compute limit


def gemm_flops_per_s(threads: int, size: int = 2048, iterations: int = 5) -> float:
    """Best float32 torch GEMM rate (FLOP/s) of ``size``² × ``size``² on ``threads`` threads."""
    import torch

    torch.set_num_threads(threads)
    a, b = torch.randn(size, size), torch.randn(size, size)
    c = torch.empty(size, size)
    torch.mm(a, b, out=c)  # warm-up: thread pool, caches, MKL/oneDNN dispatch
    best = min(timed(lambda: torch.mm(a, b, out=c))[0] for _ in range(max(1, iterations)))
    return 2.0 * size**3 / best


def measure_score(
    settings: Settings, articles: Sequence[str], repeats: int, gemm_size: int, max_passages: int
) -> dict[str, Any]:
    """predict_passages on the articles' passages (timed ``repeats`` times) with MiniLM at the
    configured precision and, when that is not fp32, at fp32 beside it; the GEMM peak in each run;
    one breakdown run: MiniLM forward alone on the tokenised English passages, USE alone (both at
    the configured precision)."""
    from models.classifier import StanceClassifier
    from models.encoders import FP32, MINILM, USE, Int8MiniLMEncoder, MiniLMEncoder, get_encoder
    from models.language import detect_language
    from models.passages import segment

    threads, precision = settings.torch_threads, settings.encoder_precision
    classifier = StanceClassifier.load(settings.model_version, threads=threads, precision=precision)
    every = [p.text for text in articles for p in segment(text)]
    passages = every[:: max(1, math.ceil(len(every) / max_passages))]  # an even sample of all
    languages = [detect_language(p) for p in passages]
    english = [p for p, lang in zip(passages, languages, strict=True) if lang == "en"]
    minilm = get_encoder(MINILM, threads, precision)
    assert isinstance(minilm, (MiniLMEncoder, Int8MiniLMEncoder))
    ids = minilm.tokenize(english)
    out: dict[str, Any] = {"passages": len(passages), "of_passages": len(every), "threads": threads}
    out["precision"] = precision
    out["english_passages"] = len(english)
    out["minilm_token_lengths"] = [len(x) for x in ids]
    config = json.loads((minilm.model_dir / "config.json").read_text(encoding="utf-8"))
    out["minilm_config"] = {k: config[k] for k in ("hidden_size", "intermediate_size", "num_hidden_layers")}
    classifier.predict_passages(list(passages[:8]))  # warm-up
    out["predict_s"], out["gemm_flops_per_s"] = [], []
    for _ in range(repeats):
        out["predict_s"].append(timed(lambda: classifier.predict_passages(list(passages)))[0])
        out["gemm_flops_per_s"].append(gemm_flops_per_s(threads, gemm_size))
    out["minilm_forward_s"] = timed(lambda: minilm.encode_ids(ids))[0]
    out["use_s"] = timed(lambda: get_encoder(USE, threads, precision).encode(list(passages)))[0]
    out["language_s"] = timed(lambda: [detect_language(p) for p in passages])[0]
    if precision != FP32:  # the fp32 path beside it, on the same passages
        reference = StanceClassifier.load(settings.model_version, threads=threads, precision=FP32)
        reference.predict_passages(list(passages[:8]))
        out["predict_fp32_s"] = [
            timed(lambda: reference.predict_passages(list(passages)))[0] for _ in range(repeats)
        ]
    return out


# ---------------------------------------------------------------- store


def article_like_rows(texts: Sequence[str], count: int) -> list[dict[str, Any]]:
    """``count`` rows for the articles table, cycling through ``texts`` under unique URLs."""
    from flows.ingest import dedup as neardup
    from flows.ingest.text import text_hash
    from warehouse.article_ops import article_id_for

    usable = [t for t in texts if t.strip()] or ["placeholder article text for the store stage"]
    prints = [neardup.to_bytes(neardup.signature(t)) for t in usable]
    now = now_utc()
    fixed = {"source_id": "bench", "language": "en", "extraction_method": "trafilatura", "extracted_at": now}
    fixed.update(published_at=now, published_source="fetched")
    rows = []
    for n in range(count):
        text, url, k = usable[n % len(usable)], f"http://127.0.0.1/bench/{n}.html", n % len(usable)
        row: dict[str, Any] = {"article_id": article_id_for(url), "canonical_url": url, "url": url}
        row.update(text=text, text_chars=len(text), text_hash=f"{text_hash(text)}:{n}", fingerprint=prints[k])
        row["title"] = text[:60]
        rows.append({**fixed, **row})
    return rows


def measure_store(workdir: Path, texts: Sequence[str], rows: int, batch: int, repeats: int) -> dict[str, Any]:
    """insert_rows of article rows into a fresh warehouse, ``batch`` rows per transaction."""
    from warehouse.db import insert_rows, transaction, writer

    data = article_like_rows(texts, rows)
    seconds = []
    for rep in range(repeats):
        path = fresh_dir(workdir / f"store-{rep}") / "store.duckdb"
        with writer(path) as con:  # created and migrated outside the timing

            def insert_all(con: Any = con) -> None:
                for start in range(0, len(data), batch):
                    with transaction(con):
                        insert_rows(con, "articles", data[start : start + batch])

            seconds.append(timed(insert_all)[0])
            stored = query.one(con, "count_articles")
        if stored is None or stored[0] != rows:
            raise RuntimeError(f"store: expected {rows} rows, found {stored}")
    return {"rows": rows, "batch_rows": batch, "seconds": seconds}
