"""The probe suite: the committed model passes at least what its card records, and the file is sound."""

from __future__ import annotations

import pytest

from flows.settings import SEEDS_DIR
from models.classifier import StanceClassifier
from models.probes import KINDS, PROBES, load_probes, run_probes


@pytest.fixture(scope="module")
def result() -> dict:
    model = StanceClassifier.load()
    return {
        "card": model.card["probes"],
        "now": run_probes(model, load_probes(SEEDS_DIR / PROBES), model.abstain_below),
    }


def test_probe_file_covers_every_kind_in_three_languages() -> None:
    probes = load_probes(SEEDS_DIR / PROBES)
    for kind in KINDS:
        assert {p.lang for p in probes if p.kind == kind} == {"en", "ko", "zh"}, kind
    pairs: dict[str, int] = {}
    for p in probes:
        if p.pair:
            pairs[p.pair] = pairs.get(p.pair, 0) + 1
    assert pairs and set(pairs.values()) == {2}
    assert "한미동맹 한중관계 사드" in {p.text for p in probes}


def test_committed_model_passes_at_least_its_recorded_rates(result: dict) -> None:
    card, now = result["card"], result["now"]
    assert now["pass_rate"] >= card["pass_rate"] - 1e-6
    for kind, rate in card["by_kind"].items():
        assert now["by_kind"][kind] >= rate - 1e-6, kind
    assert now["pairs"]["pass_rate"] >= card["pairs"]["pass_rate"] - 1e-6


def test_negation_flips_the_direction_of_most_pairs(result: dict) -> None:
    """Floors from the committed model: fail if negation or voice handling is lost."""
    now = result["now"]
    assert now["by_kind"]["negation"] >= 0.5
    assert now["by_kind"]["hard_negative"] >= 0.5
