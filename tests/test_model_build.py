"""Deterministic model build, and the committed artifact's provenance."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from flows.settings import SEEDS_DIR
from models.build import BuildConfig, build
from models.encoders import sha256_file
from models.labels import LABELS
from models.registry import ARTIFACTS_DIR, LATEST, list_versions, read_card, read_heads, resolve_version
from models.training import default_dev_path, load_seed_labels

SMALL = BuildConfig(folds=2, inner_folds=2, c_grid=(1.0,), seed_weights=(1.0,))
TINY_DEV = [
    ("washington", "Seoul joined Washington's plan to contain Beijing and expanded drills with US forces."),
    ("washington", "South Korea sided with the United States and rejected China's demands."),
    ("hedge", "Seoul tried to keep good ties with both Washington and Beijing without choosing."),
    ("hedge", "The president stressed pragmatic diplomacy that balances the US alliance and China."),
    ("beijing", "China warned that Seoul would pay a price for following America's containment."),
    ("beijing", "Seoul should deepen cooperation with Beijing and resist pressure from Washington."),
    ("irrelevant", "The national assembly passed a new tax bill on Friday."),
    ("irrelevant", "A singer's new album topped the charts in Seoul."),
]


@pytest.fixture(scope="module")
def tiny_dev(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny dev file in the dev set's format (each passage its own URL)."""
    path = tmp_path_factory.mktemp("dev") / "dev.jsonl"
    rows = [
        {"id": f"T{i}", "label": label, "lang": "en", "url": f"https://example.org/{i}", "text": text}
        for i, (label, text) in enumerate(TINY_DEV)
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def tiny_seeds(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small seeds directory cut from the real one: the article's first lines and a few poles."""
    directory = tmp_path_factory.mktemp("seeds")
    lines = (SEEDS_DIR / "seed_article.txt").read_text(encoding="utf-8").split("\n")[:25]
    (directory / "seed_article.txt").write_text("\n".join(lines), encoding="utf-8")
    labels = [s for s in load_seed_labels(SEEDS_DIR) if s.line <= len(lines)]
    (directory / "seed_labels.jsonl").write_text(
        "".join(json.dumps(s.__dict__, ensure_ascii=False) + "\n" for s in labels), encoding="utf-8"
    )
    poles = [json.loads(x) for x in (SEEDS_DIR / "poles.jsonl").read_text(encoding="utf-8").splitlines()]
    kept = [p for p in poles if int(p["id"].rsplit("-", 1)[1]) <= 2]
    (directory / "poles.jsonl").write_text(
        "".join(json.dumps(p, ensure_ascii=False) + "\n" for p in kept), encoding="utf-8"
    )
    return directory


def _files(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


def test_build_is_deterministic_and_versioned_by_content(
    tmp_path: Path, tiny_dev: Path, tiny_seeds: Path
) -> None:
    first = build(tmp_path / "a", SMALL, dev_path=tiny_dev, seeds_dir=tiny_seeds)
    second = build(tmp_path / "b", SMALL, dev_path=tiny_dev, seeds_dir=tiny_seeds)
    assert first == second
    assert first.startswith("stance-")
    assert _files(tmp_path / "a") == _files(tmp_path / "b")
    assert (tmp_path / "a" / LATEST).read_text().strip() == first
    card = read_card(first, tmp_path / "a")
    assert card["version"] == first
    assert card["metrics"]["out_of_fold"]["calibrated"]["overall"]["n"] == len(TINY_DEV)
    assert card["training_data"]["files"]["dev"]["sha256"] == sha256_file(tiny_dev)
    assert card["build"]["config"]["folds"] == 2
    assert card["training_data"]["files"]["poles"]["sha256"] == sha256_file(tiny_seeds / "poles.jsonl")
    # a different configuration is a different model: new version next to the old one
    changed = BuildConfig(**{**SMALL.__dict__, "c_grid": (3.0,)})
    other = build(tmp_path / "a", changed, dev_path=tiny_dev, seeds_dir=tiny_seeds)
    assert other != first
    assert list_versions(tmp_path / "a") == sorted([first, other])
    assert (tmp_path / "a" / LATEST).read_text().strip() == other


def test_committed_artifact_is_small_and_resolvable() -> None:
    version = resolve_version(None)
    assert (ARTIFACTS_DIR / LATEST).read_text().strip() == version
    total = sum(p.stat().st_size for p in ARTIFACTS_DIR.iterdir() if p.is_file())
    assert total < 5 * 1024 * 1024
    heads = read_heads(ARTIFACTS_DIR / f"{version}.npz")
    assert set(heads) == {"en", "multilingual"}
    for head in heads.values():
        assert head.coef.shape[0] == len(LABELS) and head.temperature > 0
        assert np.isfinite(head.coef).all()


def test_committed_card_matches_current_seed_files() -> None:
    card = read_card(resolve_version(None))
    files = card["training_data"]["files"]
    for role, name in (("seed_article", "seed_article.txt"), ("seed_labels", "seed_labels.jsonl")):
        assert files[role]["sha256"] == sha256_file(SEEDS_DIR / name), f"{name} changed: rebuild the model"
    assert files["poles"]["sha256"] == sha256_file(SEEDS_DIR / "poles.jsonl"), "poles changed: rebuild"
    dev = default_dev_path(SEEDS_DIR)
    if dev is not None:
        assert files["dev"]["sha256"] == sha256_file(dev), "dev set changed: rebuild the model"
    assert card["labels"] == list(LABELS)
    assert len(card["seed_article"]["paragraphs"]) == len(load_seed_labels(SEEDS_DIR))
    for name in ("out_of_fold", "targets"):
        assert name in card["metrics"]
    assert {"minilm", "use-multilingual"} <= set(card["encoders"])


def test_committed_card_carries_calibration_abstention_voice_and_probes() -> None:
    version = resolve_version(None)
    card = read_card(version)
    oof = card["metrics"]["out_of_fold"]
    assert oof["ece_bins"] == 15
    assert 0.0 <= oof["washington_beijing"]["share"] <= 1.0
    figure = card["reliability_diagram"]
    assert figure == f"{version}.reliability.png"
    assert (ARTIFACTS_DIR / figure).read_bytes().startswith(b"\x89PNG")
    assert f"]({figure})" in (ARTIFACTS_DIR / f"{version}.card.md").read_text(encoding="utf-8")
    assert 0.3 <= card["abstention"]["threshold"] <= 0.7
    assert set(card["voice"]["per_language"]) == {"en", "ko", "zh"}
    assert card["probes"]["n"] > 0 and card["outlet_prior"]["used_by_model"] is False
    for head in card["heads"].values():
        assert set(head["temperatures"]) >= ({"en"} if head["encoders"][0] == "minilm" else {"ko", "zh"})
    # each head learns from every language; the weight of rows in languages it does not serve is
    # chosen in the folds
    for name in ("en", "multilingual"):
        assert card["heads"][name]["foreign_weight"] in card["build"]["config"]["foreign_weights"]
    assert {c["foreign_weight"] for c in card["metrics"]["out_of_fold"]["fold_choices"]} <= {1.0, 0.3}
    targets = card["metrics"]["targets"]
    assert {"en_macro_f1", "ko_macro_f1", "zh_macro_f1", "all_macro_f1", "ece_15_bins"} <= set(targets)
    assert {"washington_beijing_share", "seed_score_held_out"} <= set(targets)


def test_foreign_rows_weight_is_chosen_by_the_inner_cv() -> None:
    """Rows in a language the head does not serve are down-weighted when that scores better."""
    from models.heads import select_c

    rng = np.random.default_rng(0)
    x = rng.normal(size=(120, 2))
    served = np.arange(120) < 60
    y = np.where((x[:, 0] > 0) == served, 0, 2)  # the foreign rows teach the opposite direction
    groups = [f"g{i}" for i in range(120)]
    grid = [(1.0, 1.0, 1.0), (1.0, 1.0, 0.3)]
    chosen = select_c(x, y, np.ones(120, bool), served, groups, grid, np.zeros(120, bool), 3, 0, ~served)
    assert chosen.foreign_weight == 0.3
    assert set(chosen.scores) == {"C=1,seed_weight=1", "C=1,seed_weight=1,foreign=0.3"}


def test_english_head_learns_other_languages_through_use_only() -> None:
    """Korean and Chinese rows reach the English head with a zero MiniLM block and real USE vectors."""
    from models.dataset import embed
    from models.encoders import MINILM, get_encoder
    from models.training import Example

    examples = [
        Example("a", "Seoul should stand firmly with its American ally.", "washington", "en", "dev", "u1"),
        Example("b", "한국은 미국 편에 서야 한다.", "washington", "ko", "dev", "u2"),
        Example("c", "韩国应当与中国加强合作。", "beijing", "zh", "dev", "u3"),
    ]
    data = embed(examples, threads=2)
    assert [data.examples[i].ident for i in data.rows["en"]] == ["a", "b", "c"]
    minilm = get_encoder(MINILM, 2).dim
    features = data.features["en"]
    assert np.abs(features[0, :minilm]).sum() > 0
    assert not features[1:, :minilm].any()
    assert (np.abs(features[1:, minilm:]).sum(axis=1) > 0).all()
    np.testing.assert_array_equal(features[1:, minilm:], data.features["multilingual"][[1, 2], :])
