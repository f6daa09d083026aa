"""`axiswatch alerts eval` on a small demo-like warehouse: injection moves a series by the shift asked,
the figures come out as JSON with the keys the issue names."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pytest

from flows.alerts import injection as evaluate
from flows.cli import main
from flows.settings import Settings
from tests.alert_site import seed_warehouse


def test_injection_moves_the_mean_by_the_shift_from_the_start_only() -> None:
    rng = np.random.default_rng(3)
    pool = evaluate.Pool("country", "KR", rng.choice([-0.8, -0.2, 0.3, 0.7], 400))
    others = evaluate.Others(np.array([0.5, 0.8, 0.9]), np.array([-0.9, -0.6]))
    series = evaluate.replay(rng, pool, date(2026, 1, 1), 60, 50)
    start = date(2026, 1, 31)
    shifted = evaluate.inject(rng, series, start, 0.3, others)
    after = series.days >= np.datetime64(start.isoformat())
    assert np.array_equal(shifted.scores[~after], series.scores[~after])
    assert shifted.scores[after].mean() - series.scores[after].mean() == pytest.approx(0.3, abs=0.05)


def test_eval_writes_the_figures_as_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    demo = Settings.load(env={}, data_dir=tmp_path / "demo")
    seed_warehouse(demo, "stance-test", {}, datetime.now(UTC), shift=False)
    monkeypatch.setattr(evaluate, "demo_location", lambda settings, quiet: demo)
    monkeypatch.setattr(evaluate, "NULL_DAYS", 14)
    out = tmp_path / "eval.json"
    args = [
        "alerts",
        "eval",
        "--data-dir",
        str(tmp_path),
        "--trials",
        "6",
        "--per-day",
        "40",
        "--shift",
        "0.5",
    ]
    assert main([*args, "--json", str(out), "--quiet"]) == 0
    figures = json.loads(out.read_text())
    assert figures["detection_rate"] >= 0.8 and figures["median_delay_days"] <= 2
    assert figures["false_alarms_per_100_series_weeks"] >= 0 and figures["series"] >= 10
    assert figures["trials"] == 6 and figures["articles_per_day"] == 40


def test_docs_alerts_headline_row_is_the_kept_eval_json() -> None:
    root = Path(__file__).resolve().parents[1]
    kept = json.loads((root / "docs" / "alerts-eval.json").read_text(encoding="utf-8"))
    text = (root / "docs" / "alerts.md").read_text(encoding="utf-8")
    row = next(line for line in text.splitlines() if line.startswith("| **+0.3** | **10** |"))
    cells = [cell.replace("**", "").strip() for cell in row.strip("|").split("|")]
    assert cells[2] == f"{kept['detection_rate'] * 100:.1f}%"
    assert cells[3] == f"{kept['detection_rate_7_days'] * 100:.1f}%"
    assert cells[4] == f"{kept['median_delay_days']:.0f} days"
    assert cells[5].startswith(f"{kept['false_alarms_per_100_series_weeks']:.2f} ({kept['false_alarms']} in ")
    assert f"{len(kept['series_names'])} series" in text
