"""The README's sizing is the measured 50,000-feed cycle's: its figures and its arithmetic.

``docs/feed-cycle-50k.json`` is what ``python -m flows.tools.feed_cycle --work-pool cycle --feeds
50000 --json FILE`` wrote; the README and docs/scaling-out.md quote it, and the machines column of
both sizing tables follows from its polls/s and the scoring rate the docs state.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

import pytest

from flows.settings import PROJECT_ROOT

README = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
SCALING = (PROJECT_ROOT / "docs" / "scaling-out.md").read_text(encoding="utf-8")
CYCLE_S = 1800


def measured() -> dict[str, Any]:
    """The recorded 50,000-feed work-pool cycle."""
    return dict(json.loads((PROJECT_ROOT / "docs" / "feed-cycle-50k.json").read_text(encoding="utf-8")))


def polls_per_s(run: dict[str, Any]) -> float:
    """Polls per second over the measured cycle's ingest wave."""
    return float(run["cycle"]["polls"] / run["measured"]["waves"]["ingest"]["seconds"])


def scoring_rate() -> float:
    """Articles per second per worker machine, as docs/scaling-out.md's sizing states it."""
    found = re.search(r"scores about (\d+(?:\.\d+)?)\s+commentary articles/s", SCALING)
    assert found, "docs/scaling-out.md lost its scoring rate sentence"
    return float(found.group(1))


def test_the_measurement_is_a_full_idle_cycle_through_a_work_pool() -> None:
    run = measured()
    assert run["feeds"] == 50_000 and run["work_pool"] and run["workers"] == 2
    cycle = run["cycle"]
    assert cycle["polls"] == 50_000 and cycle["failed"] == 0
    assert cycle["articles"] == cycle["scored"] == run["changed_feeds"] == 500
    assert run["machine"]["load_average_start"][0] < run["machine"]["cpus"]  # not a loaded machine


@pytest.mark.parametrize("page", [README, SCALING], ids=["README", "scaling-out"])
def test_pages_quote_the_measured_cycle(page: str) -> None:
    run = measured()
    assert f"{round(run['measured']['wall_s'])} s" in page
    assert f"{round(polls_per_s(run))} " in page and "feeds/s" in page


def cells(line: str) -> list[str]:
    """A markdown table row's cells, bold marks dropped."""
    return [c.strip().replace("*", "") for c in line.strip().strip("|").split("|")]


def sizing_rows(page: str) -> list[tuple[int, int, int]]:
    """(feeds, new items per cycle, machines) of each row of a page's sizing table."""
    lines = page[page.index("| feeds | new items per cycle |") :].splitlines()
    column = cells(lines[0]).index("2-core worker machines")
    rows = []
    for line in lines[2:]:
        if not line.startswith("|"):
            break
        row = cells(line)
        items = re.search(r"\((?:≈ )?([\d,]+)\)", row[1])
        assert items, line
        feeds = int(row[0].replace(",", ""))
        rows.append((feeds, int(items.group(1).replace(",", "")), int(row[column].split()[0])))
    return rows


@pytest.mark.parametrize("page", [README, SCALING], ids=["README", "scaling-out"])
def test_machines_follow_from_the_measured_rates(page: str) -> None:
    rate, score = polls_per_s(measured()), scoring_rate()
    rows = sizing_rows(page)
    assert len(rows) == 4
    for feeds, items, machines in rows:
        needed = feeds / rate + items / score
        assert machines == math.ceil(needed / CYCLE_S), (feeds, items, machines, round(needed))
