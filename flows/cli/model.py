"""`axiswatch model build|eval` and `axiswatch classify`, registered on the main parser.

Every handler has the signature ``handler(args, settings) -> int`` (the exit code).
"""

from __future__ import annotations

import argparse
import io
import json
import math
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flows.settings import Settings
    from models.classifier import StanceClassifier

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _finite(value: Any) -> Any:
    """A copy with NaN/±Infinity (e.g. F1 of a class without examples) as None, for strict JSON."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return _finite(value.item())
    return value


def to_json(value: Any) -> str:
    """Strict JSON (no NaN, no Infinity), non-ASCII kept."""
    return json.dumps(_finite(value), ensure_ascii=False, allow_nan=False, default=str)


def register(
    subparsers: argparse._SubParsersAction,  # type: ignore[type-arg]
    settings_factory: Callable[[argparse.Namespace], Settings],
) -> None:
    """Add ``model build``, ``model eval`` and ``classify`` to ``subparsers``.

    ``settings_factory`` is how the caller turns parsed arguments into Settings; the caller passes
    its result to each handler as the second argument, so it is not needed here (``--model`` maps
    to ``model_version`` through it).
    """
    model = subparsers.add_parser("model", help="build or evaluate the stance model")
    model.set_defaults(func=_usage(model))
    actions = model.add_subparsers(dest="model_command", metavar="{build,eval}")

    build = actions.add_parser(
        "build",
        help="fit and calibrate a model version (deterministic)",
        description="Fit and calibrate a stance model version (5-fold out-of-fold evaluation: several "
        "minutes on 2 cores). Without --with-labels it rebuilds the committed model into "
        "models/artifacts. With --with-labels the new version goes into the data directory's model "
        "registry (DATA_DIR/models; the committed versions stay read-only) and becomes the one the "
        "next runs score new articles with; `axiswatch model use VERSION` switches back.",
    )
    build.add_argument(
        "--out",
        type=Path,
        default=None,
        help="artifact directory (default models/artifacts; with --with-labels DATA_DIR/models)",
    )
    build.add_argument("--dev", type=Path, default=None, help="dev set JSON lines (default: found)")
    build.add_argument("--json", action="store_true", help="print a JSON summary")
    build.add_argument(
        "--with-labels",
        nargs="?",
        const="warehouse",
        default=None,
        metavar="FILE",
        help="also train on analyst labels: an exported labels file, or (no FILE) the warehouse's labels",
    )
    build.add_argument("--db", type=Path, help="warehouse for --with-labels")
    build.add_argument("--data-dir", type=Path, help="data directory (default ./var)")
    build.add_argument(
        "--cache",
        type=Path,
        default=None,
        help="directory keeping embeddings between builds (changes no figure)",
    )
    build.set_defaults(func=cmd_build)

    use = actions.add_parser(
        "use",
        help="choose the model version new articles are scored with",
        description="Point the data directory's model registry (DATA_DIR/models/LATEST) at VERSION, "
        "a committed or a user-built version; --committed drops the pointer, so the committed "
        "LATEST applies again. Articles already scored keep their scores (`axiswatch score "
        "--rescore` redoes them).",
    )
    use.add_argument("version", nargs="?", help="model version, e.g. stance-335534afc5fd")
    use.add_argument("--committed", action="store_true", help="go back to the committed LATEST version")
    use.add_argument("--data-dir", type=Path, help="data directory (default ./var)")
    use.set_defaults(func=cmd_use)

    evaluate = actions.add_parser("eval", help="score a labelled JSON-lines file and report metrics")
    evaluate.add_argument("--data", type=Path, required=True, help="JSON lines with id, label, text[, lang]")
    evaluate.add_argument("--model", help="model version (default: the latest)")
    evaluate.add_argument("--json", action="store_true", help="print the full report as JSON")
    evaluate.set_defaults(func=cmd_eval)

    classify = subparsers.add_parser("classify", help="classify JSON lines {id, text} from stdin")
    classify.add_argument("--model", help="model version (default: the latest)")
    classify.add_argument("--text", help="classify this one text instead of reading stdin")
    classify.set_defaults(func=cmd_classify)


def _usage(parser: argparse.ArgumentParser) -> Callable[[argparse.Namespace, Any], int]:
    """Handler for a bare ``axiswatch model``: print usage, exit 2."""

    def handler(args: argparse.Namespace, settings: Any) -> int:
        """Print the usage of ``axiswatch model``."""
        parser.print_usage(sys.stderr)
        print("axiswatch model: choose a subcommand: build or eval", file=sys.stderr)
        return EXIT_USAGE

    return handler


def _load(version: str | None, settings: Settings) -> StanceClassifier:
    """Load a model version with the configured thread count."""
    from flows.score.stage import locate
    from models.classifier import StanceClassifier

    found, directory = locate(settings, version)
    return StanceClassifier.load(
        found, artifacts_dir=directory, threads=settings.torch_threads, precision=settings.encoder_precision
    )


def cmd_build(args: argparse.Namespace, settings: Settings) -> int:
    """`axiswatch model build`: rebuild the model and print its version and targets."""
    from flows.orchestration.progress import tracker
    from flows.score.stage import locate, registry_dir
    from flows.settings import SEEDS_DIR
    from models.build import BuildConfig, build
    from models.registry import ARTIFACTS_DIR, read_card
    from models.training import TrainingDataError

    with_labels = getattr(args, "with_labels", None) is not None
    out = args.out or (registry_dir(settings) if with_labels else ARTIFACTS_DIR)
    before = _current(settings)
    if with_labels and not getattr(args, "json", False):
        print(
            f"building a model version with analyst labels into {out} (several minutes: the dev set is "
            "refitted and evaluated out of fold, with and without the labels)",
            file=sys.stderr,
        )
    started = time.perf_counter()
    config = BuildConfig(threads=settings.torch_threads)
    try:
        labels = _labels_file(getattr(args, "with_labels", None), settings)
        with tracker("building the model (folds, calibration, card)"):  # a spinner and the time taken
            if labels is None:
                cache = getattr(args, "cache", None)
                version = build(out, config, seeds_dir=SEEDS_DIR, dev_path=args.dev, cache_dir=cache)
            else:
                from models.labelled import build_with_labels

                version = build_with_labels(
                    out, config, seeds_dir=SEEDS_DIR, dev_path=args.dev, labels_path=labels
                )
    except (TrainingDataError, FileNotFoundError, ValueError) as exc:
        print(f"axiswatch model build: {exc}", file=sys.stderr)
        return EXIT_FAILED
    seconds = time.perf_counter() - started
    targets = read_card(version, out)["metrics"]["targets"]
    if getattr(args, "json", False):
        print(to_json({"version": version, "out": str(out), "seconds": seconds, "targets": targets}))
        return EXIT_OK
    print(f"built {version} in {seconds:.1f}s under {out}")
    for name, check in targets.items():
        verdict = "met" if check["met"] else "MISSED"
        print(f"  {name}: {check['value']} (target {check['target']}) {verdict}")
    if out.resolve() == registry_dir(settings).resolve():
        now = locate(settings)[0]
        print(
            f"what changes: {out / 'LATEST'} names {version}, so the next runs score new articles with it "
            f"(before: {before or 'none'}); articles already scored keep their scores until "
            "`axiswatch score --rescore`"
        )
        back = (
            f"axiswatch model use {before}" if before and before != now else "axiswatch model use --committed"
        )
        print(f"roll back: {back}")
    return EXIT_OK


def _current(settings: Settings) -> str | None:
    """The version new articles are scored with now (None when there is none)."""
    from flows.score.stage import locate
    from models.registry import ModelNotFoundError

    try:
        return locate(settings)[0]
    except ModelNotFoundError:
        return None


def cmd_use(args: argparse.Namespace, settings: Settings) -> int:
    """`axiswatch model use VERSION|--committed`: switch the version new articles are scored with."""
    from flows.score.stage import locate, registry_dir
    from models.registry import LATEST, ModelNotFoundError

    pointer = registry_dir(settings) / LATEST
    before = _current(settings)
    if args.committed == bool(args.version):
        print("axiswatch model use: give a VERSION or --committed", file=sys.stderr)
        return EXIT_USAGE
    if args.committed:
        pointer.unlink(missing_ok=True)
    else:
        try:
            version, _ = locate(settings, args.version)
        except ModelNotFoundError as exc:
            print(f"axiswatch model use: {exc}", file=sys.stderr)
            return EXIT_FAILED
        pointer.parent.mkdir(parents=True, exist_ok=True)
        tmp = pointer.with_name(f".{LATEST}.tmp")
        tmp.write_text(version + "\n", encoding="utf-8")
        tmp.replace(pointer)
    now, where = locate(settings.replace(model_version=None))
    print(f"new articles are scored with {now} (from {where}; before: {before or 'none'})")
    if settings.model_version:
        print(
            f"note: AXISWATCH_MODEL_VERSION={settings.model_version} overrides this choice", file=sys.stderr
        )
    return EXIT_OK


def _labels_file(option: str | None, settings: Settings) -> Path | None:
    """The labels file of --with-labels: the one given, or a fresh export of the warehouse's labels."""
    if option is None:
        return None
    if option != "warehouse":
        return Path(option)
    from flows.cli.analyst_labels import export_to

    path = settings.data_dir / "labels" / "labels-export.jsonl"
    if export_to(settings, path) == 0:
        raise ValueError(f"--with-labels: the warehouse {settings.location} has no analyst labels")
    return path


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    """`axiswatch model eval --data FILE`: metrics of a model on a labelled file."""
    import numpy as np

    from models.evaluate import LabelledDataError, evaluate, format_report, load_labelled
    from models.registry import ModelNotFoundError
    from models.training import text_hash

    try:
        passages = load_labelled(args.data)
        model = _load(args.model, settings)
    except (LabelledDataError, ModelNotFoundError, OSError) as exc:
        print(f"axiswatch model eval: {exc}", file=sys.stderr)
        return EXIT_FAILED
    predictions = model.predict([p.text for p in passages])
    probs = np.array([[pred.probs[label] for label in model.labels] for pred in predictions])
    langs = [p.lang or pred.language for p, pred in zip(passages, predictions, strict=True)]
    report = evaluate(probs, [p.label for p in passages], langs)
    seen = set(model.card.get("training_data", {}).get("text_hashes", []))
    overlap = sum(text_hash(p.text) in seen for p in passages)
    report["model_version"] = model.version
    report["in_training_data"] = overlap
    if overlap:
        print(
            f"axiswatch model eval: warning: {overlap} of {len(passages)} passages were in the training"
            f" data of {model.version}; these figures are in-sample (see the card for out-of-fold ones)",
            file=sys.stderr,
        )
    if args.json:
        print(to_json(report))
    else:
        print(f"model {model.version} on {args.data} ({len(passages)} passages)\n")
        print(format_report(report))
    return EXIT_OK


def cmd_classify(args: argparse.Namespace, settings: Settings) -> int:
    """`axiswatch classify`: JSON lines {id, text} in, one JSON line per input out, in order."""
    from models.registry import ModelNotFoundError

    try:
        model = _load(args.model, settings)
    except ModelNotFoundError as exc:
        print(f"axiswatch classify: {exc}", file=sys.stderr)
        return EXIT_FAILED
    from models.stream import classify_stream

    if args.text is not None:
        if not args.text.strip():
            print("axiswatch classify: --text is empty", file=sys.stderr)
            return EXIT_USAGE
        line = json.dumps({"id": None, "text": args.text}, ensure_ascii=True).encode() + b"\n"
        bad = classify_stream(model, io.BytesIO(line), sys.stdout, sys.stderr)
        return EXIT_FAILED if bad else EXIT_OK
    from flows.orchestration.progress import tracker

    with tracker(f"classifying lines ({model.version})") as bar:
        bad = classify_stream(model, sys.stdin.buffer, sys.stdout, sys.stderr, tick=bar.advance)
    return EXIT_FAILED if bad else EXIT_OK
