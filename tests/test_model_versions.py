"""Every committed model version stays usable: it carries its feature spec, loads and classifies."""

from __future__ import annotations

import json

import numpy as np
import pytest

from models.classifier import StanceClassifier
from models.cues import CURRENT, CueSpec
from models.heads import extra_features
from models.labels import LABELS
from models.registry import ARTIFACTS_DIR, list_versions, read_card, read_heads

VERSIONS = list_versions(ARTIFACTS_DIR)
PASSAGES = [
    "Seoul should stand with its American ally and reject Beijing's pressure over THAAD.",
    "한국은 미국과 중국 사이에서 균형을 잡는 실용 외교를 해야 한다.",
    "韩国追随美国围堵中国，只会损害自身利益。",
    "The national assembly passed a new tax bill on Friday.",
]
DIMS = {"en": 384 + 512, "multilingual": 512}


def test_there_are_committed_versions() -> None:
    assert len(VERSIONS) >= 2


@pytest.mark.parametrize("version", VERSIONS)
def test_every_version_carries_features_of_its_own_width(version: str) -> None:
    """Each head's weights match the features its own spec builds (no raw numpy shape error)."""
    heads = read_heads(ARTIFACTS_DIR / f"{version}.npz", read_card(version)["feature_spec"])
    with np.load(ARTIFACTS_DIR / f"{version}.npz") as data:
        tuned = "en.minilm_delta.layers" in data.files
    for name, head in heads.items():
        width = DIMS[name] + (len(LABELS) if tuned and name == "en" else 0)
        width += head.lexicon.dim if head.lexicon is not None else 0
        if head.extras:
            width += sum(b.shape[1] for b in extra_features(["Seoul must not join."], head.extras, head.cues))
        assert head.coef.shape == (len(LABELS), width), (version, name)


@pytest.mark.parametrize("version", VERSIONS)
def test_every_version_classifies(version: str) -> None:
    model = StanceClassifier.load(version, artifacts_dir=ARTIFACTS_DIR, threads=2)
    predictions = model.predict(PASSAGES)
    assert [p.language for p in predictions] == ["en", "ko", "zh", "en"]
    for p in predictions:
        assert p.label in LABELS
        assert abs(sum(p.probs.values()) - 1.0) < 1e-6
        assert -1.0 <= p.score <= 1.0


def test_cue_spec_round_trips_and_an_older_spec_keeps_its_columns() -> None:
    assert CueSpec.from_json(CURRENT.to_json()) == CURRENT
    older = CueSpec(
        tuple(p for p in CURRENT.patterns if p[0] not in ("blame_us", "blame_cn")),
        CURRENT.clause,
        ("toward_us", "toward_cn", "neg_scope_us", "neg_scope_cn"),
        (),
    )
    text = ["Seoul should not be a pawn of US hegemony."]
    assert older.features(text).shape == (1, len(CURRENT.names) - 2)
    row = dict(zip(CURRENT.names, CURRENT.features(text)[0], strict=True))
    assert row["blame_us"] == 1.0 and row["modal"] == 1.0
    assert older.voice_direction_block(older.features(text), ["author"]).shape == (1, 5 * 4)


def test_every_version_card_names_the_cue_spec_of_heads_that_read_cues() -> None:
    """The spec travels with the version (its card), not with the current code."""
    for version in VERSIONS:
        card = read_card(version)
        heads = read_heads(ARTIFACTS_DIR / f"{version}.npz")
        assert set(card["feature_spec"]) == {n for n, h in heads.items() if h.extras}, version
        for spec in card["feature_spec"].values():
            CueSpec.from_json(json.dumps(spec))
