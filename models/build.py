"""Build the stance model: fit heads on seeds (+ dev set), temperature-scale, evaluate, write card.

``build(out_dir)`` is deterministic: the same inputs (seed files, dev set, installed encoders,
configuration, library versions) give byte-identical artifacts and therefore the same version.
Evaluation is out of fold with folds grouped by URL; C and the temperature are chosen inside
each outer fold from its own training part (nested), so no test passage informs its prediction.

Run: ``python -m models.build [--out DIR] [--dev FILE]``.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from models.card import build_card, render_markdown, this_build_row
from models.classifier import StanceClassifier
from models.config import BuildConfig as BuildConfig
from models.crossval import fit_calibrated, learning_curve, out_of_fold
from models.dataset import Dataset, embed
from models.diagnostics import choose_threshold, reliability_png, voice_accuracy
from models.finetune import crossfit_block, with_block
from models.heads import (
    HEADS,
    LinearHead,
)
from models.history import variants
from models.outlet_prior import outlets_by_id, prior_section
from models.probes import PROBES, load_probes, run_probes
from models.registry import ARTIFACTS_DIR, heads_bytes, version_of, write_artifact
from models.training import Example, default_dev_path, dev_examples, pole_examples, seed_examples


def load_examples(seeds_dir: Path, dev_path: Path | None, config: BuildConfig) -> list[Example]:
    """Seeds, poles and (optionally, possibly a prefix of) the dev set."""
    examples = seed_examples(seeds_dir) + pole_examples(seeds_dir)
    if dev_path is not None and config.use_dev:
        dev = dev_examples(dev_path)
        examples += dev[: config.dev_limit] if config.dev_limit is not None else dev
    return examples


def final_heads(
    data: Dataset, config: BuildConfig, *, exclude: str | None = None
) -> tuple[dict[str, LinearHead], dict[str, Any]]:
    """Fit every head on all its rows (optionally leaving out one source, e.g. the seed)."""
    heads: dict[str, LinearHead] = {}
    infos: dict[str, Any] = {}
    for spec in HEADS:
        keep = np.arange(len(data.rows[spec.name]))
        if exclude is not None:
            keep = keep[~data.mask(spec.name, exclude)]
        heads[spec.name], infos[spec.name] = fit_calibrated(data, spec, keep, config)
    return heads, infos


def build(
    out_dir: Path = ARTIFACTS_DIR,
    config: BuildConfig | None = None,
    *,
    seeds_dir: Path,
    dev_path: Path | None = None,
    extra: Sequence[Example] = (),
    card_extra: Callable[[Dataset, dict[str, Any] | None], dict[str, Any]] | None = None,
    cache_dir: Path | None = None,
) -> str:
    """Fit, evaluate and write a model version under ``out_dir``; return its version id.

    ``extra`` examples (e.g. analyst labels) are training rows only; ``card_extra`` adds card sections.

    ``cache_dir`` keeps embeddings across builds (see ``models.dataset.encode_cached``); it
    changes no figure.
    """
    import torch

    config = config or BuildConfig()
    torch.manual_seed(config.seed)
    torch.use_deterministic_algorithms(True, warn_only=True)
    if dev_path is None and config.use_dev:
        dev_path = default_dev_path(seeds_dir)
    examples = load_examples(seeds_dir, dev_path, config) + list(extra)
    data = embed(examples, config.threads, cache_dir)
    oof = out_of_fold(data, config, cache_dir=cache_dir)
    curve = learning_curve(data, oof, config, cache_dir)
    delta = None
    final_data = data
    if config.finetune is not None:
        dev_rows = [i for i, e in enumerate(data.examples) if e.source == "dev"]
        block, delta = crossfit_block(data, dev_rows, config.finetune, seed=config.seed, cache_dir=cache_dir)
        final_data = with_block(data, block)
    heads, infos = final_heads(final_data, config)
    held_out, _ = final_heads(final_data, config, exclude="seed")
    rules = config.article_rules
    data_bytes = heads_bytes(heads, delta, rules)
    version = version_of(data_bytes)
    abstention = abstention_of(data, oof)
    classifier = StanceClassifier(
        version, heads, {"abstention": abstention}, config.threads, delta, article_rules=rules
    )
    without_seed = StanceClassifier(
        version + "-without-seed", held_out, {}, config.threads, delta, article_rules=rules
    )
    figure = f"{version}.reliability.png"
    quality = {
        "abstention": abstention,
        "probes": probe_section(classifier, seeds_dir, abstention["threshold"]),
        "voice": voice_accuracy(dev_path) if dev_path is not None and config.use_dev else None,
        "outlet_prior": outlet_prior_of(data, oof, dev_path),
        "learning_curve": curve,
        "variants": variants(),
        "reliability_diagram": figure if oof is not None else None,
    }
    card = build_card(
        version=version,
        data=data,
        oof=oof,
        head_infos=infos,
        classifier=classifier,
        without_seed=without_seed,
        seeds_dir=seeds_dir,
        dev_path=dev_path if config.use_dev else None,
        config=asdict(config),
        quality=quality,
    )
    row = this_build_row(card, "this build", f"{version}: {config.describe()}")
    if row is not None:
        card["variants"] = [*card["variants"], row]
    if card_extra is not None:
        card |= card_extra(data, oof)
    figures = {figure: reliability_of(data, oof, version)} if oof is not None else {}
    return write_artifact(out_dir, data_bytes, card, render_markdown(card), figures)


def abstention_of(data: Dataset, oof: dict[str, Any] | None) -> dict[str, Any]:
    """The abstention threshold chosen from out-of-fold probabilities (0 without a dev set)."""
    if oof is None:
        return {"threshold": 0.0, "rule": "no dev set: no abstention", "ignored": 0}
    return choose_threshold(oof["calibrated"], [data.examples[i].label for i in oof["index"]])


def outlet_prior_of(
    data: Dataset, oof: dict[str, Any] | None, dev_path: Path | None
) -> dict[str, Any] | None:
    """What the optional outlet prior would change out of fold (the model never uses it)."""
    if oof is None or dev_path is None:
        return None
    examples = [data.examples[i] for i in oof["index"]]
    outlets = outlets_by_id(dev_path)
    return prior_section(
        oof["calibrated"],
        [e.label for e in examples],
        [e.language for e in examples],
        [outlets.get(e.ident, "") for e in examples],
        oof["fold"],
    )


def reliability_of(data: Dataset, oof: dict[str, Any], version: str) -> bytes:
    """The out-of-fold reliability diagram of a version as PNG bytes."""
    gold = [data.examples[i].label for i in oof["index"]]
    return reliability_png(oof["calibrated"], gold, f"{version}: out of fold, all languages")


def probe_section(classifier: StanceClassifier, seeds_dir: Path, threshold: float) -> dict[str, Any] | None:
    """Probe-suite pass rates of the built model (None when the seeds have no probe file)."""
    path = seeds_dir / PROBES
    return run_probes(classifier, load_probes(path), threshold) if path.is_file() else None


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry: build a model version and print where it went."""
    parser = argparse.ArgumentParser(prog="python -m models.build", description=__doc__)
    parser.add_argument("--out", type=Path, default=ARTIFACTS_DIR, help="artifact directory")
    parser.add_argument("--dev", type=Path, default=None, help="dev set JSON lines (default: found)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seeds", type=Path, default=Path("seeds"), help="seeds directory")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    version = build(args.out, BuildConfig(threads=args.threads), seeds_dir=args.seeds, dev_path=args.dev)
    print(f"built {version} in {time.perf_counter() - started:.1f}s → {args.out}", file=sys.stderr)
    print(version)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
