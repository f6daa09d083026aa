"""Issue 27 item 6: a label posted while another process holds the warehouse's write lock is
queued (the analyst told so), then stored exactly once, with its passage, by the next writer."""

from __future__ import annotations

import time
from pathlib import Path

from starlette.testclient import TestClient

from flows.web.app import create_app
from tests.test_spool import write_lock_held
from tests.test_web import BASE, csrf_of, queue_key
from tests.web_site import WebWarehouse, copy_warehouse, web_warehouse_fixture  # noqa: F401
from warehouse.db import reader
from warehouse.sink import Sink


def post_label(client: TestClient, page: str, label: str) -> tuple[str, int, str]:
    """POST the label form of a queue page; (article_id, ordinal, redirect target)."""
    article_id, ordinal = queue_key(page)
    form = {"csrf": csrf_of(page), "article_id": article_id, "ordinal": str(ordinal), "label": label}
    response = client.post("/label", data=form | {"analyst": "kim", "skip": ""}, follow_redirects=False)
    assert response.status_code == 303, response.text
    return article_id, ordinal, response.headers["location"]


def stored_labels(path: Path) -> list[tuple[object, ...]]:
    """(article_id, ordinal, label, passage_text, model_version, shown_label) of every stored label."""
    with reader(path) as con:
        sql = "SELECT article_id, ordinal, label, passage_text, model_version, shown_label FROM labels"
        return con.execute(sql + " ORDER BY labelled_at").fetchall()


def test_a_label_posted_under_a_held_write_lock_is_queued_and_lands_once(
    web_warehouse: WebWarehouse, tmp_path: Path
) -> None:
    client = TestClient(create_app(copy_warehouse(web_warehouse, tmp_path)), base_url=BASE)
    store = client.app.state.store
    page = client.get("/queue").text
    with reader(store.path) as con:
        article_id, ordinal = queue_key(page)
        sql = "SELECT text, model_version, label FROM stg_passage_scores WHERE article_id = ? AND ordinal = ?"
        passage = con.execute(sql, [article_id, ordinal]).fetchone()
    with write_lock_held(store.path):  # another real process holds the write lock: no read either
        started = time.monotonic()
        _, _, location = post_label(client, page, "hedge")
        assert time.monotonic() - started < 5
        assert "saved=spooled" in location
        assert len(store.sink.pending_spool()) == 1 and store.pending
    assert stored_labels(store.path) == []
    assert "Label queued: another process holds the warehouse" in client.get(location).text

    # the next writer (here the workbench's next label) applies the queued label first, once
    page = client.get("/queue").text
    second = post_label(client, page, "beijing")
    assert "saved=stored" in second[2]
    rows = stored_labels(store.path)
    assert rows[0] == (article_id, ordinal, "hedge", *passage) and len(rows) == 2
    assert store.sink.pending_spool() == [] and store.pending == []
    assert Sink(store.path, store.sink.spool_dir, patience=1).replay() == 0  # a pipeline run adds nothing
    assert len(stored_labels(store.path)) == 2


def test_a_queued_label_is_applied_by_the_next_pipeline_replay(
    web_warehouse: WebWarehouse, tmp_path: Path
) -> None:
    client = TestClient(create_app(copy_warehouse(web_warehouse, tmp_path)), base_url=BASE)
    store = client.app.state.store
    page = client.get("/queue").text
    with write_lock_held(store.path):
        article_id, ordinal, _ = post_label(client, page, "washington")
    pipeline = Sink(store.path, store.sink.spool_dir, patience=1)
    assert pipeline.replay() == 1 and pipeline.replay() == 0
    assert [r[:3] for r in stored_labels(store.path)] == [(article_id, ordinal, "washington")]
