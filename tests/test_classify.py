"""`axiswatch classify` and `axiswatch model eval|build` through flows.cli.model.register + argparse."""

from __future__ import annotations

import argparse
import functools
import io
import json
from pathlib import Path

import pytest

import flows.cli.model as model_cli
from flows.settings import SEEDS_DIR, Settings
from models import build as calibrate
from models.labels import LABELS
from models.registry import LATEST


def run(argv: list[str], monkeypatch: pytest.MonkeyPatch, stdin: str = "") -> int:
    """Parse ``argv`` with a parser that only has the model commands, then call the handler."""
    parser = argparse.ArgumentParser(prog="axiswatch")
    sub = parser.add_subparsers(dest="command", required=True)
    model_cli.register(sub, lambda args: Settings.load(env={}))
    args = parser.parse_args(argv)
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(stdin.encode("utf-8"))))
    code: int = args.func(args, Settings.load(env={}, torch_threads=2))
    return code


def _lines(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_classify_round_trip_with_bad_lines(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    stdin = "\n".join(
        [
            json.dumps({"id": "a", "text": "Seoul must anchor itself to the US alliance."}),
            "this is not json",
            json.dumps({"id": 2, "text": "한국은 미국과 중국 사이에서 균형을 유지해야 한다."}),
            json.dumps({"id": "no-text"}),
            "",
            json.dumps(["a list"]),
            json.dumps({"id": "c", "text": "中国官方媒体警告韩国不要追随美国。"}),
        ]
    )
    code = run(["classify"], monkeypatch, stdin)
    captured = capsys.readouterr()
    assert code == 1
    out = _lines(captured.out)
    assert [row["id"] for row in out] == ["a", 2, "c"]
    assert [row["language"] for row in out] == ["en", "ko", "zh"]
    for row in out:
        assert set(row) == {"id", "label", "probs", "score", "language", "voice"}
        probs = row["probs"]
        assert isinstance(probs, dict) and tuple(probs) == LABELS
        assert sum(probs.values()) == pytest.approx(1.0)
        assert row["score"] == pytest.approx(probs["washington"] - probs["beijing"])
        assert row["label"] in LABELS
    err = captured.err
    assert "line 2: not JSON" in err
    assert "line 4: no text" in err
    assert "line 6: not a JSON object" in err
    assert "line 5" not in err  # blank lines are skipped silently


def test_classify_all_good_exits_zero(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    stdin = json.dumps({"id": 1, "text": "Seoul balances Washington and Beijing."}) + "\n"
    assert run(["classify"], monkeypatch, stdin) == 0
    assert len(_lines(capsys.readouterr().out)) == 1


def test_classify_text_flag(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["classify", "--text", "North Korea fired a missile."], monkeypatch) == 0
    [row] = _lines(capsys.readouterr().out)
    assert row["id"] is None and row["language"] == "en"


def test_classify_unknown_model(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["classify", "--model", "stance-000000000000"], monkeypatch, "") == 1
    assert "available" in capsys.readouterr().err


def test_model_eval_json_and_in_sample_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pole = json.loads((SEEDS_DIR / "poles.jsonl").read_text(encoding="utf-8").splitlines()[0])
    rows = [
        {"id": "p", "label": pole["label"], "text": pole["text"], "lang": "en"},
        {"id": "x", "label": "irrelevant", "text": "A pop group topped the charts in Seoul.", "lang": "en"},
        {
            "id": "y",
            "label": "hedge",
            "text": "한국은 미중 사이에서 어느 편도 들지 않으려 한다.",
            "lang": "ko",
        },
    ]
    data = tmp_path / "eval.jsonl"
    data.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    assert run(["model", "eval", "--data", str(data), "--json"], monkeypatch) == 0
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert report["overall"]["n"] == 3
    assert set(report["per_language"]) == {"en", "ko"}
    assert report["in_training_data"] == 1
    assert "1 of 3 passages were in the training data" in captured.err
    assert run(["model", "eval", "--data", str(data)], monkeypatch) == 0
    assert "macroF1" in capsys.readouterr().out


def test_model_eval_bad_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "bad.jsonl"
    data.write_text('{"id": 1, "label": "pro-us", "text": "x"}\n', encoding="utf-8")
    assert run(["model", "eval", "--data", str(data)], monkeypatch) == 1
    assert "line 1" in capsys.readouterr().err
    assert run(["model", "eval", "--data", str(tmp_path / "missing.jsonl")], monkeypatch) == 1


def test_bare_model_command_prints_usage(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["model"], monkeypatch) == 2
    assert "build or eval" in capsys.readouterr().err


def test_model_build_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    small = functools.partial(
        calibrate.BuildConfig, folds=2, inner_folds=2, c_grid=(1.0,), seed_weights=(1.0,), use_dev=False
    )
    monkeypatch.setattr(calibrate, "BuildConfig", small)
    assert run(["model", "build", "--out", str(tmp_path), "--json"], monkeypatch) == 0
    summary = json.loads(capsys.readouterr().out)
    assert (tmp_path / LATEST).read_text().strip() == summary["version"]
    assert "seed_score_held_out" in summary["targets"]
