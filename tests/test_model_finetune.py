"""The fine-tuned MiniLM path: a small delta merged into one forward pass, deterministic, stored and read."""

from __future__ import annotations

import io

import numpy as np

from models.finetune import Delta, FineTuneConfig, FineTunedMiniLM, soup, train_delta
from models.labels import LABELS

TEXTS = [
    "Seoul should stand with Washington and deploy the battery.",
    "Seoul must weigh what joining another US-led bloc would cost at its largest market.",
    "Balancing between the two powers is the only sensible course for Seoul.",
    "The national assembly passed a tax bill.",
] * 2
LABELS_IDX = [0, 2, 1, 3] * 2
TINY = FineTuneConfig(epochs=1, batch_size=4, rank=2, layers=1, seeds=(0,))


def test_training_is_deterministic_and_the_delta_small() -> None:
    first = train_delta(TEXTS, LABELS_IDX, TINY, seed=0).rounded()
    second = train_delta(TEXTS, LABELS_IDX, TINY, seed=0).rounded()
    for name, (u, v) in first.factors.items():
        np.testing.assert_array_equal(u, second.factors[name][0])
        np.testing.assert_array_equal(v, second.factors[name][1])
        assert u.shape[1] == v.shape[0] == TINY.rank
    assert len(first.factors) == len(TINY.targets) * TINY.layers
    assert all(name.startswith("encoder.layer.5.") for name in first.factors)
    assert first.classifier.shape == (len(LABELS), 384)
    size = sum(u.nbytes + v.nbytes for u, v in first.factors.values())
    assert size < 200_000


def test_soup_is_the_mean_delta_and_round_trips_through_npz() -> None:
    rng = np.random.default_rng(0)
    make = lambda: Delta(  # noqa: E731
        {"encoder.layer.5.attention.self.query": (rng.normal(size=(384, 2)), rng.normal(size=(2, 384)))},
        rng.normal(size=(4, 384)),
        rng.normal(size=4),
    )
    a, b = make(), make()
    merged = soup([a, b])
    name = "encoder.layer.5.attention.self.query"
    mean = (a.factors[name][0] @ a.factors[name][1] + b.factors[name][0] @ b.factors[name][1]) / 2
    u, v = merged.factors[name]
    np.testing.assert_allclose(u.astype(np.float64) @ v.astype(np.float64), mean, atol=0.05)
    buffer = io.BytesIO()
    np.savez(buffer, **merged.arrays("en.minilm_delta"))
    buffer.seek(0)
    with np.load(buffer) as data:
        back = Delta.from_arrays(data, "en.minilm_delta")
    np.testing.assert_array_equal(back.factors[name][0], u)


def test_merged_encoder_gives_vectors_and_log_probabilities() -> None:
    delta = train_delta(TEXTS, LABELS_IDX, TINY, seed=0).rounded()
    out = FineTunedMiniLM(delta, threads=2).encode(TEXTS[:4])
    assert out.shape == (4, 384 + len(LABELS))
    np.testing.assert_allclose(np.linalg.norm(out[:, :384], axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(np.exp(out[:, 384:]).sum(axis=1), 1.0, atol=1e-5)
