"""Extraction quality through the whole ingest path: HTTP, decoding, extraction, warehouse."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from flows.tools.demo_site import BENCH_DIR
from flows.tools.loopback import LoopbackServer
from tests.extraction_quality import benchmark_metrics, shingle_match
from tests.ingest_site import fast_settings, feed_bytes, item, sources_toml
from tests.stages import run_ingest
from warehouse.db import reader


@pytest.mark.slow
def test_stored_text_of_the_181_benchmark_pages_scores_f1_095(
    loopback: LoopbackServer, tmp_path: Path
) -> None:
    truth = json.loads((BENCH_DIR / "ground-truth.json").read_text(encoding="utf-8"))
    items = []
    for key in sorted(truth):
        path = f"/bench/{key}.html"
        # served as a real site would: text/html without a charset (the page's own meta decides)
        loopback.route(
            path,
            gzip.decompress((BENCH_DIR / "html" / f"{key}.html.gz").read_bytes()),
            content_type="text/html",
        )
        items.append(item(key, loopback.url(path), key))
    loopback.route("/feeds/bench.xml", feed_bytes("bench", items), content_type="application/rss+xml")
    settings = fast_settings(tmp_path, extract_workers=2, batch_size=64, total_timeout=20.0, read_timeout=5.0)
    settings.sources_file.write_text(sources_toml({"bench": ("/feeds/bench.xml", "en")}, loopback.base_url))
    counts = run_ingest(settings)
    assert counts.failed == 0
    with reader(settings.warehouse_path) as con:
        stored = dict(
            con.execute("SELECT e.guid, a.text FROM entries e JOIN articles a USING (article_id)").fetchall()
        )
    assert len(stored) == len(truth) == 181
    metrics = benchmark_metrics([shingle_match(truth[k]["articleBody"], stored[k]) for k in sorted(truth)])
    print(f"through-HTTP extraction: {metrics}")
    assert metrics["f1"] >= 0.95
