"""Evaluation maths on a tiny case worked out by hand, and the labelled-file reader."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from models.evaluate import (
    LabelledDataError,
    confusion,
    evaluate,
    expected_calibration_error,
    format_report,
    load_labelled,
    macro_f1,
    per_class,
)

GOLD = ["washington", "washington", "hedge", "beijing", "irrelevant", "irrelevant"]
PROBS = np.array(
    [
        [0.90, 0.05, 0.03, 0.02],  # washington, right, confidence .90
        [0.20, 0.10, 0.60, 0.10],  # beijing, wrong, .60
        [0.10, 0.70, 0.10, 0.10],  # hedge, right, .70
        [0.10, 0.05, 0.80, 0.05],  # beijing, right, .80
        [0.01, 0.02, 0.02, 0.95],  # irrelevant, right, .95
        [0.15, 0.55, 0.10, 0.20],  # hedge, wrong, .55
    ]
)
LANGS = ["en", "en", "en", "ko", "ko", "zh"]


def test_confusion_rows_are_gold_columns_predictions() -> None:
    pred = ["washington", "beijing", "hedge", "beijing", "irrelevant", "hedge"]
    assert confusion(GOLD, pred).tolist() == [[1, 0, 1, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 1, 0, 1]]


def test_per_class_and_macro_f1_by_hand() -> None:
    pred = ["washington", "beijing", "hedge", "beijing", "irrelevant", "hedge"]
    matrix = confusion(GOLD, pred)
    scores = per_class(matrix)
    assert scores["washington"] == pytest.approx({"precision": 1.0, "recall": 0.5, "f1": 2 / 3, "support": 2})
    assert scores["hedge"] == pytest.approx({"precision": 0.5, "recall": 1.0, "f1": 2 / 3, "support": 1})
    assert scores["beijing"]["precision"] == pytest.approx(0.5)
    assert scores["irrelevant"]["recall"] == pytest.approx(0.5)
    assert macro_f1(matrix) == pytest.approx(2 / 3)


def test_absent_class_counts_as_zero_unless_present_only() -> None:
    matrix = confusion(["washington", "hedge"], ["washington", "washington"])
    # washington F1 2/3, hedge 0, beijing and irrelevant have no support and no predictions
    assert macro_f1(matrix) == pytest.approx((2 / 3) / 4)
    assert macro_f1(matrix, present_only=True) == pytest.approx((2 / 3) / 2)


def test_ece_top_label_fifteen_bins_by_hand() -> None:
    # each row falls in its own bin: mean |correct − confidence| = (.1+.6+.3+.2+.05+.55)/6
    assert expected_calibration_error(PROBS, GOLD) == pytest.approx(1.8 / 6)


def test_ece_pools_rows_of_one_bin() -> None:
    probs = np.array([[0.9, 0.1, 0.0, 0.0], [0.9, 0.1, 0.0, 0.0]])
    # one bin: accuracy 0.5, confidence 0.9
    assert expected_calibration_error(probs, ["washington", "hedge"]) == pytest.approx(0.4)
    assert expected_calibration_error(np.zeros((0, 4)), []) == 0.0


def test_evaluate_reports_overall_and_per_language() -> None:
    report = evaluate(PROBS, GOLD, LANGS)
    overall = report["overall"]
    assert overall["n"] == 6
    assert overall["accuracy"] == pytest.approx(4 / 6)
    assert overall["macro_f1"] == pytest.approx(2 / 3)
    assert overall["confusion"]["labels"] == ["washington", "hedge", "beijing", "irrelevant"]
    assert set(report["per_language"]) == {"en", "ko", "zh"}
    assert report["per_language"]["ko"]["accuracy"] == 1.0
    assert report["per_language"]["zh"]["accuracy"] == 0.0
    expected_nll = -np.mean(np.log([0.90, 0.20, 0.70, 0.80, 0.95, 0.20]))
    assert overall["nll"] == pytest.approx(expected_nll)
    text = format_report(report)
    assert "macroF1" in text and "washington" in text


def test_load_labelled_lists_every_bad_line(tmp_path: Path) -> None:
    path = tmp_path / "dev.jsonl"
    good = {"id": "a", "label": "hedge", "text": "Seoul balances.", "lang": "en", "url": "u1"}
    path.write_text(
        "\n".join(
            [
                json.dumps(good),
                "{not json",
                json.dumps({"id": "b", "label": "neutral", "text": "x"}),
                json.dumps({"id": "c", "label": "hedge", "text": "  "}),
                "",
            ]
        ),
        encoding="utf-8",
    )
    with pytest.raises(LabelledDataError) as err:
        load_labelled(path)
    message = str(err.value)
    assert "3 bad line(s)" in message
    assert "line 2" in message and "line 3" in message and "line 4" in message
    assert "neutral" in message


def test_load_labelled_reads_fields(tmp_path: Path) -> None:
    path = tmp_path / "dev.jsonl"
    path.write_text(json.dumps({"id": 7, "label": "beijing", "text": "t"}) + "\n", encoding="utf-8")
    [p] = load_labelled(path)
    assert (p.id, p.label, p.text, p.lang, p.group) == ("7", "beijing", "t", None, "7")
