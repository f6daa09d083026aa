"""Encoder throughput: passages/s and tokens/s of each encoder on the configured threads.

Used by ``axiswatch bench``; speed is measured here, never asserted in timed tests.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from flows.settings import SEEDS_DIR
from models.encoders import MINILM, USE, MiniLMEncoder, get_encoder
from models.language import detect_language
from models.passages import segment
from models.training import pole_examples, seed_examples


def bench_texts(min_passages: int = 256) -> dict[str, list[str]]:
    """Bench corpora: English passages for MiniLM, all languages for USE (cycled to a minimum)."""
    article = (SEEDS_DIR / "seed_article.txt").read_text(encoding="utf-8")
    examples = pole_examples(SEEDS_DIR) + seed_examples(SEEDS_DIR)
    texts = [p.text for p in segment(article)] + [e.text for e in examples]
    english = [t for t in texts if detect_language(t) == "en"]
    return {MINILM: _cycle(english, min_passages), USE: _cycle(texts, min_passages)}


def _cycle(texts: list[str], n: int) -> list[str]:
    """Repeat ``texts`` until there are at least ``n``."""
    if not texts:
        return []
    return [texts[i % len(texts)] for i in range(max(n, len(texts)))]


def _best_time(fn: Any, repeats: int) -> float:
    """Fastest of ``repeats`` timed calls of ``fn()``."""
    best = float("inf")
    for _ in range(max(1, repeats)):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best


def bench_encoders(
    texts: Sequence[str] | None = None,
    *,
    threads: int = 2,
    repeats: int = 3,
    encoders: Sequence[str] = (MINILM, USE),
) -> dict[str, Any]:
    """Measure load time, passages/s and tokens/s (end to end, and model-only for MiniLM)."""
    corpora = bench_texts() if texts is None else {name: list(texts) for name in encoders}
    result: dict[str, Any] = {"threads": threads, "repeats": repeats, "encoders": {}}
    for name in encoders:
        batch = corpora[name]
        started = time.perf_counter()
        encoder = get_encoder(name, threads)
        load = time.perf_counter() - started
        tokens = sum(encoder.count_tokens(batch))
        encoder.encode(batch[:16])
        seconds = _best_time(lambda enc=encoder, b=batch: enc.encode(b), repeats)
        entry = {
            "passages": len(batch),
            "tokens": tokens,
            "load_seconds": load,
            "seconds": seconds,
            "passages_per_second": len(batch) / seconds,
            "tokens_per_second": tokens / seconds,
        }
        if isinstance(encoder, MiniLMEncoder):
            ids = encoder.tokenize(batch)
            model_seconds = _best_time(lambda enc=encoder, i=ids: enc.encode_ids(i), repeats)
            entry["model_only_tokens_per_second"] = tokens / model_seconds
        result["encoders"][name] = entry
    return result


def format_bench(result: dict[str, Any]) -> str:
    """One line per encoder."""
    lines = [f"encoder throughput on {result['threads']} thread(s), best of {result['repeats']}:"]
    for name, e in result["encoders"].items():
        extra = (
            f", model only {e['model_only_tokens_per_second']:.0f} tok/s"
            if "model_only_tokens_per_second" in e
            else ""
        )
        lines.append(
            f"  {name}: {e['passages_per_second']:.1f} passages/s, {e['tokens_per_second']:.0f} tokens/s"
            f"{extra} ({e['passages']} passages, {e['tokens']} tokens, load {e['load_seconds']:.1f}s)"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    print(format_bench(bench_encoders()))
