"""A DuckLake whose table data lives on S3, run end to end against an S3-compatible server the
test starts on loopback (moto's server mode): ingest, score, marts, report, `sql` and `warehouse
copy`, with the endpoint and credentials taken from AXISWATCH_S3_* settings."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from flows.cli.commands import main
from flows.report.weekly import build_report
from flows.settings import Settings
from flows.tools.loopback import LoopbackServer
from flows.tools.pgserver import PostgresServer
from tests.ingest_site import build_site
from tests.stages import run_ingest, run_score
from warehouse import db
from warehouse.lake import Lake, forget

BUCKET, KEY_ID, SECRET = "axiswatch-lake", "test-key-id", "test-secret-key"


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """moto's S3 server on 127.0.0.1 (a free port) with one empty bucket; its endpoint URL."""
    pytest.importorskip("boto3")
    server_mod = pytest.importorskip("moto.server")
    server = server_mod.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    client = s3_client(endpoint)
    client.create_bucket(Bucket=BUCKET)
    try:
        yield endpoint
    finally:
        server.stop()


def s3_client(endpoint: str) -> Any:
    """A boto3 S3 client on the loopback server, with the test's credentials."""
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=KEY_ID,
        aws_secret_access_key=SECRET,
        region_name="us-east-1",
    )


def objects(endpoint: str, prefix: str) -> list[str]:
    """The keys under ``prefix`` in the test bucket."""

    client = s3_client(endpoint)
    listed = client.list_objects_v2(Bucket=BUCKET, Prefix=prefix)
    return [o["Key"] for o in listed.get("Contents", [])]


def test_an_s3_lake_end_to_end(
    s3_endpoint: str,
    postgres: PostgresServer,
    loopback: LoopbackServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    env = {
        "AXISWATCH_WAREHOUSE": f"ducklake:postgres:{postgres.createdb('s3lake')}",
        "AXISWATCH_WAREHOUSE_DATA_PATH": f"s3://{BUCKET}/lake/",
        "AXISWATCH_S3_ENDPOINT": s3_endpoint,
        "AXISWATCH_S3_ACCESS_KEY_ID": KEY_ID,
        "AXISWATCH_S3_SECRET_ACCESS_KEY": SECRET,
    }
    site = build_site(loopback, tmp_path)
    settings = Settings.load(env=env, **{k: v for k, v in dict(site).items() if v is not None})
    lake = settings.location
    assert isinstance(lake, Lake) and lake.is_remote and lake.s3 is not None
    assert SECRET not in repr(settings) and SECRET not in repr(lake)

    counts = run_ingest(settings)
    assert counts.extracted >= 3 and counts.failed == 0, counts
    with db.writer(lake) as con:
        con.execute("CALL ducklake_flush_inlined_data('lake')")  # the rows into Parquet files on S3
    forget(lake)  # an instance attached before the flush still looks for the inlined rows
    parquet = [k for k in objects(s3_endpoint, "lake/") if k.endswith(".parquet")]
    assert any("/articles/" in k for k in parquet) and any("/documents/" in k for k in parquet), parquet

    _, scored = run_score(settings)
    assert scored >= 3
    with db.reader(lake) as con:
        marts = con.execute("SELECT count(*), sum(n_articles) FROM mart_weekly_stance_source").fetchone()
    assert marts is not None and marts[0] > 0

    report = build_report(lake, "current", out_dir=tmp_path / "reports", timezone="UTC")
    assert report.markdown_path.exists() and report.markdown.startswith("#")

    for key, value in env.items():
        monkeypatch.setenv(key, value)
    data_dir = str(tmp_path / "var")
    assert main(["sql", "--json", "--data-dir", data_dir, "SELECT count(*) AS n FROM stg_articles"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows and rows[0]["n"] >= 3

    copy = tmp_path / "copy.duckdb"
    code = main(["warehouse", "copy", "--from", env["AXISWATCH_WAREHOUSE"], "--to", f"duckdb:{copy}"])
    assert code == 0, capsys.readouterr()
    assert "verified" in capsys.readouterr().out
    with db.reader(copy) as con:
        assert con.execute("SELECT count(*) FROM article_scores").fetchone() == (scored,)


def test_s3_settings_are_checked_and_reach_duckdb_as_a_secret() -> None:
    settings = Settings.load(
        env={
            "AXISWATCH_S3_ENDPOINT": "http://127.0.0.1:9000",
            "AXISWATCH_S3_ACCESS_KEY_ID": "k",
            "AXISWATCH_S3_SECRET_ACCESS_KEY": "s'q",
        }
    )
    sql = settings.s3.secret_sql()
    assert "ENDPOINT '127.0.0.1:9000'" in sql and "USE_SSL false" in sql and "URL_STYLE 'path'" in sql
    assert "SECRET 's''q'" in sql
    aws = Settings.load(env={"AXISWATCH_S3_REGION": "eu-west-1"}).s3.secret_sql()
    assert "URL_STYLE 'vhost'" in aws and "ENDPOINT" not in aws and "KEY_ID" not in aws
    from flows.settings import SettingsError

    with pytest.raises(SettingsError, match="AXISWATCH_S3_ENDPOINT"):
        Settings.load(env={"AXISWATCH_S3_ENDPOINT": "http://host/with/a/path"})
