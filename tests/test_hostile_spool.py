"""Issue 27 item 3: every hostile spool entry is quarantined (or set aside) with its one-line reason,
never raises out of the replay, never blocks the spool files after it, and `status` says so."""

from __future__ import annotations

import json
import shutil
from datetime import timedelta
from pathlib import Path

import pytest

from flows.cli.commands import main
from flows.settings import Settings
from tests.hostile.generate import HERE, large_spool_items
from tests.test_spool import T0, sink, source_row, write_lock_held
from warehouse import db, spool
from warehouse.ingest_ops import LinkExisting, SyncSources
from warehouse.sink import Sink

CORPUS = HERE / "spool"
__all__ = ["sink"]  # the fixture, shared with test_spool


def plant_corpus(spool_dir: Path) -> dict[str, str]:
    """Every committed and generated hostile entry in ``spool_dir``; name -> expected reason text."""
    spool_dir.mkdir(parents=True, exist_ok=True)
    expected: dict[str, str] = json.loads((CORPUS / "reasons.json").read_text())
    for name in expected:
        shutil.copy(CORPUS / name, spool_dir / name)
    return expected | large_spool_items(spool_dir)


def test_every_hostile_spool_entry_is_quarantined_with_its_reason(
    sink: Sink, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with write_lock_held(sink.path):
        assert sink.apply([SyncSources([source_row()], T0)]) is None
    expected = plant_corpus(sink.spool_dir)
    with write_lock_held(sink.path):  # a valid file after every hostile one, in name order
        assert sink.apply([LinkExisting("http://x/a", "id", T0 + timedelta(seconds=1))]) is None

    assert sink.replay() == 2  # both valid files applied; nothing raised
    assert sink.pending_spool() == []
    reasons = dict(sink.quarantined())
    assert set(reasons) == set(expected)
    for name, text in expected.items():
        assert text in reasons[name], (name, reasons[name])
        assert "\n" not in reasons[name] and len(reasons[name]) < 400
    with db.reader(sink.path) as con:
        assert con.execute("SELECT count(*) FROM spool_ledger").fetchone() == (2,)
        assert con.execute("SELECT count(*) FROM sources").fetchone() == (1,)

    settings = Settings.load(env={}, data_dir=tmp_path / "var")
    main(["status", "--data-dir", str(settings.data_dir), "--json"])
    attention = json.loads(capsys.readouterr().out)["attention"]
    assert not any("wait for the warehouse lock" in line for line in attention)
    assert any("bad-date.spool" in line and "bad date value" in line for line in attention)


def test_status_names_unreadable_entries_before_any_run(
    sink: Sink, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sink.spool_dir.mkdir(parents=True)
    large_spool_items(sink.spool_dir)
    (sink.spool_dir / "deep-brackets.spool").unlink()  # a regular file: known bad only once parsed
    settings = Settings.load(env={}, data_dir=tmp_path / "var")
    main(["status", "--data-dir", str(settings.data_dir), "--json"])
    attention = json.loads(capsys.readouterr().out)["attention"]
    assert not any("wait for the warehouse lock" in line for line in attention)
    assert any("fifo.spool" in line and "a FIFO" in line and "quarantine" in line for line in attention)
    assert any("huge.spool" in line and "too large" in line for line in attention)


def test_reading_is_bounded_in_size_and_never_follows_links(tmp_path: Path) -> None:
    big = tmp_path / "big.spool"
    big.write_bytes(b" " * 2000)
    with pytest.raises(spool.SpoolError, match="too large: 2,000 bytes, over the 1,000-byte limit"):
        spool.read_bytes(big, max_bytes=1000)
    assert spool.read_bytes(big, max_bytes=2000) == b" " * 2000
    (tmp_path / "link.spool").symlink_to(big)
    with pytest.raises(spool.SpoolError, match="symbolic link"):
        spool.read_bytes(tmp_path / "link.spool")


def test_a_large_write_is_split_into_files_within_the_limit() -> None:
    ops = [SyncSources([source_row()] * 20, T0) for _ in range(8)]
    chunks = spool.split(ops, T0, max_bytes=12_000)
    assert len(chunks) > 1 and all(len(c) <= 12_000 for c in chunks)
    assert [op for c in chunks for op in spool.loads(c, {"sync_sources": SyncSources})] == ops
