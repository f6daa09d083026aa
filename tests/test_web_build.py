"""A label made in the web app reaches a model build through `--with-labels`, measured apart from dev."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.testclient import TestClient

from flows.cli.analyst_labels import export_to
from flows.cli.commands import build_parser
from flows.cli.model import _labels_file
from flows.web.app import create_app
from models.labelled import analyst_examples, build_with_labels
from models.registry import read_card
from models.training import text_hash
from tests.test_model_build import SMALL, tiny_dev, tiny_seeds  # noqa: F401
from tests.test_web import label
from tests.web_site import WebWarehouse, copy_warehouse, web_warehouse_fixture  # noqa: F401
from warehouse.db import reader


def test_labels_from_the_web_app_reach_the_training_data(
    web_warehouse: WebWarehouse,
    tmp_path: Path,
    tiny_dev: Path,  # noqa: F811
    tiny_seeds: Path,  # noqa: F811
) -> None:
    settings = copy_warehouse(web_warehouse, tmp_path)
    client = TestClient(create_app(settings), base_url="http://127.0.0.1")
    keys = [label(client, lab) for lab in ("washington", "hedge", "beijing")]
    exported = tmp_path / "labels.jsonl"
    assert export_to(settings, exported) == 3
    args = build_parser().parse_args(
        ["model", "build", "--with-labels", "--db", str(settings.warehouse_path)]
    )
    from_warehouse = _labels_file(args.with_labels, settings)  # what `model build --with-labels` trains on
    assert from_warehouse is not None and from_warehouse.read_text(encoding="utf-8").count("\n") == 3
    assert _labels_file(None, settings) is None
    with reader(settings.warehouse_path) as con:
        texts = {
            (a, o): t for a, o, t in con.execute("SELECT article_id, ordinal, text FROM passages").fetchall()
        }
    examples = analyst_examples(exported)
    assert [e.source for e in examples] == ["analyst"] * 3
    assert sorted(e.text for e in examples) == sorted(texts[k] for k in keys)

    version = build_with_labels(
        tmp_path / "models", SMALL, seeds_dir=tiny_seeds, dev_path=tiny_dev, labels_path=exported
    )
    card = read_card(version, tmp_path / "models")
    trained = set(card["training_data"]["text_hashes"])
    assert {text_hash(texts[k]) for k in keys} <= trained
    assert sum(n for key, n in card["training_data"]["examples"].items() if key.startswith("analyst/")) == 3
    section = card["analyst_labels"]
    assert section["n_used"] == 3 and section["by_label"] == {"beijing": 1, "hedge": 1, "washington": 1}
    figures = section["dev_out_of_fold"]
    # the dev set alone is held out, with and without the analyst labels in training
    assert (
        figures["without_analyst_labels"]["overall"]["n"]
        == figures["with_analyst_labels"]["overall"]["n"]
        == 8
    )
    assert card["metrics"]["out_of_fold"]["calibrated"]["overall"]["n"] == 8
    assert {p["id"] for p in card["metrics"]["out_of_fold"]["predictions"]} == {f"T{i}" for i in range(8)}
    assert isinstance(section["delta_macro_f1"], float)
    markdown = (tmp_path / "models" / f"{version}.card.md").read_text(encoding="utf-8")
    assert "## Analyst labels" in markdown and "without analyst labels" in markdown


def test_with_labels_refuses_a_warehouse_without_labels(web_warehouse: WebWarehouse, tmp_path: Path) -> None:
    settings = copy_warehouse(web_warehouse, tmp_path)
    with pytest.raises(ValueError, match="no analyst labels"):
        _labels_file("warehouse", settings)
