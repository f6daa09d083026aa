"""The fast path (int8 MiniLM, USE as an ONNX graph): it runs, agrees with fp32, its gate holds.

The sidecar ``<version>.fast_path.json`` (``python -m models.fast_path``) records the out-of-fold
comparison on the card's folds; these tests pin it to the card, to the gate and to the setting's
default, and check on a handful of dev passages that the int8 path gives fp32's labels.
"""

from __future__ import annotations

import json
import re
import threading
from typing import Any

import numpy as np
import pytest

from flows.settings import PROJECT_ROOT, SEEDS_DIR, Settings
from models.classifier import StanceClassifier
from models.encoders import (
    FP32,
    INT8,
    MINILM,
    USE,
    Int8MiniLMEncoder,
    MiniLMEncoder,
    MultilingualEncoder,
    OrtMultilingualEncoder,
    get_encoder,
)
from models.fast_path import MAX_F1_DROP, MIN_AGREEMENT, sidecar_path
from models.language import detect_language
from models.onnx_minilm import TextRuns
from models.registry import read_card, resolve_version
from models.training import default_dev_path, dev_examples

DOCS = (PROJECT_ROOT / "docs" / "model.md").read_text(encoding="utf-8")


def figures() -> dict[str, Any]:
    """The fast-path sidecar of the version LATEST names."""
    path = sidecar_path(resolve_version(None))
    assert path.is_file(), f"{path.name} missing: run python -m models.fast_path --seeds seeds"
    return dict(json.loads(path.read_text(encoding="utf-8")))


@pytest.fixture(scope="module")
def dev() -> list[Any]:
    """The dev set's examples (loaded once: reading them costs seconds)."""
    dev_path = default_dev_path(SEEDS_DIR)
    assert dev_path is not None
    return list(dev_examples(dev_path))


@pytest.fixture(scope="module")
def sample(dev: list[Any]) -> list[str]:
    """Twelve dev passages: four of each language, spread over the file."""
    picked: dict[str, list[str]] = {}
    for example in dev[::7]:
        picked.setdefault(example.language, []).append(example.text)
    return [t for lang in ("en", "ko", "zh") for t in picked[lang][:4]]


def test_sidecar_is_the_latest_versions_and_reproduces_its_card() -> None:
    fast = figures()
    card = read_card(resolve_version(None))
    assert fast["version"] == card["version"]
    assert fast["dev_passages"] == card["metrics"]["out_of_fold"]["calibrated"]["overall"]["n"]
    # refitting each fold with its recorded choices gives the card's own out-of-fold figure
    card_f1 = card["metrics"]["out_of_fold"]["calibrated"]["overall"]["macro_f1"]
    assert fast["out_of_fold"]["macro_f1"][FP32] == pytest.approx(card_f1, abs=1e-6)


def test_gate_figures_hold_and_decide_the_default() -> None:
    fast = figures()
    oof = fast["out_of_fold"]
    change = oof["macro_f1"][INT8] - oof["macro_f1"][FP32]
    assert change == pytest.approx(oof["change"], abs=1e-6)
    passes = (
        change >= -MAX_F1_DROP
        and oof["identical_labels"] >= MIN_AGREEMENT
        and fast["committed_model"]["identical_labels"] >= MIN_AGREEMENT
    )
    assert fast["gate"]["passes"] == passes
    default = Settings.model_fields["encoder_precision"].default
    assert default == (INT8 if passes else FP32), "the fast path is the default only if it passes"


def test_docs_state_the_recorded_gate_figures() -> None:
    fast = figures()
    oof = fast["out_of_fold"]
    match = re.search(
        r"int8 out of fold: macro-F1 (\d\.\d{3,4}) against (\d\.\d{3,4}) for fp32 "
        r"\(change ([−+-]\d\.\d{3,4})\), "
        r"identical labels on (\d+\.\d)% of ([\d,]+) dev passages; committed model: (\d+\.\d)%",
        DOCS,
    )
    assert match is not None, "docs/model.md lost the fast-path sentence"
    for group, value in ((1, oof["macro_f1"][INT8]), (2, oof["macro_f1"][FP32]), (3, oof["change"])):
        stated = match.group(group).replace("−", "-")
        assert float(stated) == round(value, len(stated.split(".")[1])), (stated, value)
    assert float(match.group(4)) == round(100 * oof["identical_labels"], 1)
    assert int(match.group(5).replace(",", "")) == fast["dev_passages"]
    assert float(match.group(6)) == round(100 * fast["committed_model"]["identical_labels"], 1)


def test_int8_path_runs_and_agrees_with_fp32(sample: list[str]) -> None:
    fp32 = StanceClassifier.load(precision=FP32)
    int8 = StanceClassifier.load(precision=INT8)
    assert isinstance(int8.encoder(MINILM), Int8MiniLMEncoder)
    assert isinstance(int8.encoder(USE), OrtMultilingualEncoder)
    assert isinstance(fp32.encoder(MINILM), MiniLMEncoder)
    assert type(fp32.encoder(USE)) is MultilingualEncoder
    languages = [detect_language(t) for t in sample]
    a, b = fp32.probabilities(sample, languages), int8.probabilities(sample, languages)
    assert (a.argmax(axis=1) == b.argmax(axis=1)).all()
    assert np.abs(a - b).max() < 0.05
    english = [i for i, g in enumerate(languages) if g == "en"]
    assert not np.array_equal(a[english], b[english])  # int8 MiniLM really ran: values differ, slightly


def test_int8_minilm_tokenises_as_fp32_and_embeds_close(sample: list[str]) -> None:
    fp32, int8 = get_encoder(MINILM, 2, FP32), get_encoder(MINILM, 2, INT8)
    assert isinstance(fp32, MiniLMEncoder) and isinstance(int8, Int8MiniLMEncoder)
    english = sample[:4]
    assert int8.tokenize(english) == fp32.tokenize(english)
    cosine = (fp32.encode(english) * int8.encode(english)).sum(axis=1)
    assert cosine.min() > 0.97
    assert int8.info()["files"] == fp32.info()["files"]  # the card's hashes cover the int8 path too
    assert int8.graph.is_file() and int8.graph.stat().st_size < 80 * 1024 * 1024


def test_the_use_graph_is_the_numpy_ports_network(sample: list[str], tmp_path: Any) -> None:
    """Written from the package's weights, the USE graph in fp32 gives the numpy port's vectors to
    1e-5; the fast path's (int8 convolutions) stays within cosine 0.999; quantizing the projection
    too (the variant that failed the gate) moves them further."""
    from models import onnx_use

    numpy_use = get_encoder(USE, 2, FP32)
    fast = get_encoder(USE, 2, INT8)
    assert type(numpy_use) is MultilingualEncoder and isinstance(fast, OrtMultilingualEncoder)
    reference = numpy_use.encode(sample)
    assert fast.info()["files"] == numpy_use.info()["files"]
    tok = numpy_use.model._tokenizer
    ids = [tok.encode(t, out_type=int, add_bos=True, add_eos=True) for t in sample]
    cosines = {}
    for variant, quantized in onnx_use.VARIANTS.items():
        graph = tmp_path / f"use.{variant}.onnx"
        onnx_use.build(numpy_use.resource_dir / "weights.npz", graph, quantized)
        runner = onnx_use.OrtUSE(graph, numpy_use.model._model)
        vectors = np.vstack([runner.vector(i) for i in ids])
        if variant == "fp32":
            assert np.abs(vectors - reference).max() < 1e-5
        if variant == "convs":  # the cached graph the fast path loaded is this one
            assert np.array_equal(vectors, fast.encode(sample))
        cosines[variant] = float((vectors * reference).sum(axis=1).min())
    assert cosines["fp32"] > 0.99999 > cosines["convs"] > 0.999 > cosines["all"] > 0.95


def test_the_fast_use_tokenizer_gives_the_ports_ids(dev: list[Any]) -> None:
    """C++ sentencepiece with the port for unknown pieces: the port's ids on every dev passage,
    the benchmark pages' text and awkward inputs."""
    from flows.tools.demo_site import BENCH_DIR

    fast = get_encoder(USE, 2, INT8)
    assert isinstance(fast, OrtMultilingualEncoder)
    texts = [e.text for e in dev]
    truth = json.loads((BENCH_DIR / "ground-truth.json").read_text(encoding="utf-8"))
    texts += [page["articleBody"][:600] for page in truth.values()]  # the port is slow: 600 chars each
    texts += [
        "",
        " ",
        "\t\n",
        "a\u00a0b",
        "ＡＢＣ１２３",
        "e\u0301",
        "😀",
        "사드 ‘논란’",
        "中美…",
        "x" * 3000,
    ]
    port = fast.model._tokenizer
    expected = [port.encode(t, out_type=int, add_bos=True, add_eos=True) for t in texts]
    assert fast.tokenizer.encode(texts) == expected
    assert fast.count_tokens(texts[:5]) == [len(ids) for ids in expected[:5]]


@pytest.mark.parametrize("name", [MINILM, USE])
def test_an_int8_vector_depends_on_its_text_alone(sample: list[str], name: str) -> None:
    """Scored alone, in another batch or in another order: the same passage, the same vector."""
    int8 = get_encoder(name, 2, INT8)
    together = int8.encode(sample)
    alone = np.vstack([int8.encode([text]) for text in sample])
    reordered = int8.encode(sample[::-1])[::-1]
    one_thread = get_encoder(name, 1, INT8).encode(sample)
    assert np.array_equal(together, alone) and np.array_equal(together, reordered)
    assert np.array_equal(together, one_thread)


def test_text_runs_go_two_at_once_and_keep_their_order() -> None:
    """Two runs wait for each other at a barrier: run one after the other, the first times out."""
    meet = threading.Barrier(2, timeout=10)

    def run(x: int) -> int:
        meet.wait()
        return x * x

    assert TextRuns(2).map(run, [1, 2, 3, 4]) == [1, 4, 9, 16]
    alone = threading.Barrier(2, timeout=0.2)  # one thread: the first run waits alone and breaks it
    with pytest.raises(threading.BrokenBarrierError):
        TextRuns(1).map(lambda x: alone.wait() and x, [1, 2])


def test_each_precision_loads_its_own_encoders_and_unknown_is_refused() -> None:
    assert get_encoder(USE, 2, INT8) is not get_encoder(USE, 2, FP32)
    assert get_encoder(USE, 2, INT8) is get_encoder(USE, 2, INT8)  # loaded once per process
    with pytest.raises(ValueError, match="unknown precision"):
        get_encoder(MINILM, 2, "int4")


def test_the_setting_selects_the_path_the_commands_load() -> None:
    from flows.cli.model import _load

    fp32 = _load(None, Settings(encoder_precision="fp32"))
    assert type(fp32.encoder(MINILM)) is MiniLMEncoder and type(fp32.encoder(USE)) is MultilingualEncoder
    int8 = _load(None, Settings(encoder_precision="int8"))
    assert type(int8.encoder(MINILM)) is Int8MiniLMEncoder
    assert type(int8.encoder(USE)) is OrtMultilingualEncoder
