"""`axiswatch bench`'s scale section: the DuckLake warehouse against the embedded DuckDB file.

- ``commit_ms_per_article``: wall milliseconds per article of the ``store_article`` write (its
  duplicate lookups, the document, article and band rows, the entry links, one transaction each,
  as ingest writes them) into a fresh warehouse: the file, and a lake whose catalog is a
  throwaway PostgreSQL on this machine (flows/tools/pgserver.py) with data in a local directory.
- ``workers``: articles per second of ingest + score of the bench corpus (a) in one process on
  the file, (b) in one process on the lake, (c) in two processes at once on the lake, each
  doing one shard (the sources and article ids a pipeline-shard run of two would take), which
  is the work two pool workers do in parallel.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from flows.tools.bench_stages import article_like_rows, fresh_dir
from flows.tools.pgserver import PostgresServer
from warehouse.db import Location, now_utc, reader
from warehouse.lake import Lake
from warehouse.sink import Sink


def new_lake(pg: PostgresServer, workdir: Path, name: str) -> Lake:
    """A new empty lake: its own catalog database and data directory."""
    return Lake(pg.createdb(name), str(fresh_dir(workdir / name)))


def _store_articles(location: Location, spool: Path, rows: Sequence[dict[str, Any]], batch: int) -> float:
    """Seconds to store ``rows`` one article per transaction, ``batch`` per write window, as
    ingest does (the warehouse is created and migrated first, outside the timing)."""
    sink = Sink(location, spool, 30.0)
    with sink.read():
        pass
    started = time.perf_counter()
    for start in range(0, len(rows), batch):
        ops = [
            ("store_article", (r, None, r["canonical_url"], 0.9, now_utc()))
            for r in rows[start : start + batch]
        ]
        results = sink.apply(ops)
        if results is None or any(isinstance(r, Exception) for r in results):
            raise RuntimeError(f"store_article failed on {location}: {results}")
    return time.perf_counter() - started


def measure_commit_cost(
    pg: PostgresServer, workdir: Path, texts: Sequence[str], batch: int, repeats: int
) -> dict[str, Any]:
    """Milliseconds per stored article on the file and on the lake (median of ``repeats``)."""
    rows = article_like_rows(texts, len([t for t in texts if t.strip()]) or 1)
    out: dict[str, Any] = {"articles": len(rows), "batch": batch}
    for kind in ("file", "lake"):
        runs = []
        for rep in range(repeats):
            name = f"commit-{kind}-{rep}"
            location: Location = (
                fresh_dir(workdir / name) / "w.duckdb" if kind == "file" else new_lake(pg, workdir, name)
            )
            runs.append(_store_articles(location, workdir / f"{name}-spool", rows, batch))
        out[f"{kind}_seconds"] = runs
        out[f"{kind}_ms_per_article"] = statistics.median(runs) * 1000 / len(rows)
    out["lake_over_file"] = out["lake_ms_per_article"] / out["file_ms_per_article"]
    return out


def count_articles(location: Location) -> int:
    """Articles stored in a warehouse."""
    with reader(location) as con:
        row = con.execute("SELECT count(*) FROM articles").fetchone()
    return int(row[0]) if row else 0
