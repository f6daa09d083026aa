"""The pieces of the fan-out without Prefect: stable shards, per-shard run locks, a shard's
pending entries and articles, the Prefect server's database setting."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

from flows.orchestration import fanout, prefect_server, runlock
from flows.settings import Settings, SettingsError


def test_shards_are_stable_and_cover_every_key() -> None:
    keys = [f"source-{n}" for n in range(200)]
    groups = fanout.split(keys, 3)
    assert sorted(k for g in groups for k in g) == sorted(keys)
    assert all(len(g) > 40 for g in groups)  # sha256 spreads them
    assert fanout.shard_of("global-times", 4) == fanout.shard_of("global-times", 4)
    assert fanout.shard_of("global-times", 1) == 0
    # fixed across processes and machines (no PYTHONHASHSEED): a known value
    assert [fanout.shard_of(k, 7) for k in ("a", "b", "c")] == [
        int.from_bytes(hashlib.sha256(k.encode()).digest()[:8], "big") % 7 for k in "abc"
    ]
    shard = fanout.Shard(1, 3)
    assert [k for k in keys if shard.owns(k)] == groups[1]
    assert shard.label("ingest") == "ingest shard 2/3"


def test_sibling_shards_do_not_block_each_other_but_a_second_run_of_one_does(tmp_path: Path) -> None:
    with (
        runlock.exclusive_run(tmp_path, "pipeline"),
        runlock.exclusive_run(tmp_path, "shard 1", runlock.shard_lock_name(0)),
        runlock.exclusive_run(tmp_path, "shard 2", runlock.shard_lock_name(1)),
    ):
        assert "shard 2" in (tmp_path / "run-shard-1.lock").read_text()
    lock = runlock.shard_lock_name(0)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; from flows.orchestration import runlock\n"
            f"with runlock.exclusive_run(Path({str(tmp_path)!r}), 'shard 1', {lock!r}):\n"
            "    print('held', flush=True); time.sleep(30)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with (
            pytest.raises(runlock.RunActive, match="shard 1"),
            runlock.exclusive_run(tmp_path, "again", lock),
        ):
            pass
        with runlock.exclusive_run(tmp_path, "other shard", runlock.shard_lock_name(1)):
            pass
    finally:
        holder.kill()
        holder.wait()


def test_the_prefect_database_setting(tmp_path: Path) -> None:
    url = "postgresql+asyncpg://axiswatch@127.0.0.1:5432/prefect"
    settings = Settings.load(env={"AXISWATCH_PREFECT_DATABASE_URL": url})
    assert settings.prefect_database_url == url
    with pytest.raises(SettingsError, match="AXISWATCH_PREFECT_DATABASE_URL"):
        Settings.load(env={"AXISWATCH_PREFECT_DATABASE_URL": "postgresql://x/y"})
    env = prefect_server.server_env(tmp_path, url)
    assert env["PREFECT_API_DATABASE_CONNECTION_URL"] == url and "PREFECT_API_URL" not in env
    assert prefect_server.database_kind(env) == "PostgreSQL"
    assert prefect_server.database_kind({}) == "SQLite"
    with pytest.raises(SettingsError, match="AXISWATCH_SHARDS"):
        Settings.load(env={"AXISWATCH_SHARDS": "0"})
