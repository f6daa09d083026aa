"""`axiswatch web`: pages, the labelling queue's order, labels (CSRF, supersede, spool), token, export."""

from __future__ import annotations

import html
import json
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from starlette.testclient import TestClient

from flows.cli.commands import main
from flows.web.app import WebError, check_binding, create_app, safe_url
from flows.web.kappa import cohen_kappa
from tests.web_site import HOSTILE_AUTHOR, WebWarehouse, copy_warehouse, web_warehouse_fixture  # noqa: F401
from warehouse.db import reader

BASE = "http://127.0.0.1"


@pytest.fixture
def client(web_warehouse: WebWarehouse, tmp_path: Path) -> TestClient:
    """A client of the app on a private copy of the warehouse."""
    return TestClient(create_app(copy_warehouse(web_warehouse, tmp_path)), base_url=BASE)


def csrf_of(page: str) -> str:
    """The CSRF token a page's form carries."""
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', page)
    assert found, "no csrf field"
    return found.group(1)


def queue_key(page: str) -> tuple[str, int]:
    """(article_id, ordinal) of the passage the queue shows."""
    found = re.search(r'id="queue-passage" data-key="([0-9a-f]+):(\d+)"', page)
    assert found, page[:2000]
    return found.group(1), int(found.group(2))


def label(client: TestClient, label: str, analyst: str = "kim", note: str = "") -> tuple[str, int]:
    """Label the queue's current passage through the form; return its key."""
    page = client.get("/queue").text
    article_id, ordinal = queue_key(page)
    form = {
        "csrf": csrf_of(page),
        "article_id": article_id,
        "ordinal": str(ordinal),
        "label": label,
        "analyst": analyst,
        "note": note,
        "skip": "",
    }
    response = client.post("/label", data=form, follow_redirects=False)
    assert response.status_code == 303, response.text
    return article_id, ordinal


def test_dashboard_points_link_to_their_articles(client: TestClient) -> None:
    page = client.get("/").text
    points = re.findall(r'<circle class="point[^"]*"[^>]*data-n="(\d+)"[^>]*data-href="([^"]+)"', page)
    assert points, "no point drawn"
    assert all(int(n) >= 3 for n, _ in points)
    href = points[0][1].replace("&amp;", "&")
    listing = client.get(href).text
    assert listing.count('class="article-link"') >= int(points[0][0])
    assert "All outlets" in page and "State media" in page and 'state-media"' not in page  # names, not slugs
    assert "country" in client.get("/?kind=country").text


def test_article_page_highlights_passages_with_probabilities(client: TestClient) -> None:
    page = client.get("/").text
    href = re.search(r'data-href="([^"]+)"', page).group(1).replace("&amp;", "&")
    article = re.search(r'href="(/article/[0-9a-f]+)"', client.get(href).text).group(1)
    shown = client.get(article).text
    assert re.search(r'class="passage lab-bg-(washington|hedge|beijing|irrelevant)"', shown)
    assert re.search(r"W \d\.\d\d · H \d\.\d\d · B \d\.\d\d · I \d\.\d\d", shown)
    assert "contribution" in shown
    assert client.get("/article/nope").status_code == 404


def test_hostile_text_is_escaped_everywhere(client: TestClient) -> None:
    found = (
        client.get("/search", params={"q": "drills"}).text + client.get("/search", params={"q": "Seoul"}).text
    )
    links = re.findall(r'href="(/article/[0-9a-f]+)"', found)
    pages = [client.get(link).text for link in links]
    hostile = [p for p in pages if "window.__xss=1" in p]
    assert hostile, "the hostile article was not found"
    for page in [*hostile, client.get("/").text, client.get("/sources").text]:
        assert "<script>window" not in page and "<img src=x" not in page and "<svg onload" not in page
        assert 'href="javascript:' not in page
    assert "&lt;script&gt;window.__xss=1&lt;/script&gt;" in hostile[0]
    assert "&lt;/td&gt;&lt;/table&gt;" in hostile[0]
    assert "&#34;&gt;&lt;svg onload" in hostile[0] or HOSTILE_AUTHOR not in hostile[0]
    assert safe_url("javascript:alert(1)") == "" and safe_url(" JAVASCRIPT:x") == ""
    assert safe_url("https://example.org/a") == "https://example.org/a"
    assert "script-src 'self'" in client.get("/").headers["content-security-policy"]


def test_queue_puts_the_least_confident_passage_first(
    client: TestClient, web_warehouse: WebWarehouse
) -> None:
    article_id, ordinal = queue_key(client.get("/queue").text)
    with reader(web_warehouse.settings.warehouse_path) as con:
        rows = con.execute(
            "SELECT p.article_id, p.ordinal, greatest(p_washington, p_hedge, p_beijing, p_irrelevant),"
            " p.label = 'irrelevant' OR NOT coalesce(s.is_relevant, false), coalesce(p.language, a.language),"
            " a.source_id, p.label"
            " FROM stg_passage_scores p JOIN stg_articles a USING (article_id)"
            " LEFT JOIN stg_article_scores s USING (article_id)"
        ).fetchall()
    on_topic = [r for r in rows if not r[3]]
    assert on_topic and len(on_topic) < len(rows)  # both kinds exist in the fixture
    lowest = min(int(r[2] * 20) for r in on_topic)  # off-topic passages wait until the end
    shown = next(r for r in rows if r[0] == article_id and r[1] == ordinal)
    assert not shown[3] and int(shown[2] * 20) == lowest
    page = client.get("/queue").text
    assert "Label policy" in page and "strategic ambiguity" in page and 'id="queue-filters"' in page
    by_key = {(r[0], r[1]): r for r in rows}
    for params, check in (
        ({"offtopic": "only"}, lambda r: r[3]),
        ({"predicted": "beijing"}, lambda r: r[6] == "beijing"),
        ({"language": "ko"}, lambda r: r[4] == "ko"),
        ({"source": shown[5], "offtopic": "include"}, lambda r: r[5] == shown[5]),
    ):
        key = queue_key(client.get("/queue", params=params).text)
        assert check(by_key[key]), (params, by_key[key])
    assert 'id="queue-empty"' in client.get("/queue", params={"topic": "no-such-topic"}).text


def test_labels_need_csrf_and_supersede_without_overwriting(client: TestClient) -> None:
    page = client.get("/queue").text
    article_id, ordinal = queue_key(page)
    form = {"article_id": article_id, "ordinal": str(ordinal), "label": "hedge", "analyst": "kim"}
    assert client.post("/label", data=form | {"csrf": "0" * 32}, follow_redirects=False).status_code == 403
    assert client.post("/label", data=form, follow_redirects=False).status_code == 403
    assert (
        client.post(
            "/label",
            data=form | {"csrf": csrf_of(page)},
            headers={"origin": "http://evil.example"},
            follow_redirects=False,
        ).status_code
        == 403
    )
    assert client.get("/label").status_code == 405
    first = label(client, "hedge", note="first <b>note</b>")
    assert queue_key(client.get("/queue").text) != first  # labelled passages leave the queue
    response = client.post(
        "/label", data=form | {"csrf": csrf_of(page), "label": "beijing"}, follow_redirects=False
    )
    assert response.status_code == 303
    listing = client.get("/labels").text
    assert listing.count('class="superseded"') == 1 and "first &lt;b&gt;note&lt;/b&gt;" in listing
    assert re.search(r"<td>\d{4}-\d\d-\d\d \d\d:\d\d KST</td>", listing)  # times name their zone
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "flows.cli",
            "labels",
            "export",
            "--db",
            str(client.app.state.store.path),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert [r["label"] for r in rows] == ["beijing"]
    assert {"id", "label", "lang", "url", "outlet", "year", "text", "why", "analyst"} <= set(rows[0])


def test_agreement_page_shows_cohen_kappa(client: TestClient) -> None:
    for analyst, labels in (
        ("kim", ["hedge", "beijing", "washington"]),
        ("lee", ["hedge", "beijing", "hedge"]),
    ):
        client.cookies.clear()
        for lab in labels:
            label(client, lab, analyst=analyst)
    page = client.get("/agreement").text
    expected = cohen_kappa(["hedge", "beijing", "washington"], ["hedge", "beijing", "hedge"])
    assert f"{expected:.3f}" in page
    assert cohen_kappa(["a", "b"], ["a", "b"]) == 1.0 and cohen_kappa([], []) is None
    assert round(cohen_kappa(["a", "a", "b", "b"], ["a", "b", "a", "b"]) or 0, 6) == 0.0


def test_a_label_meeting_a_held_lock_is_spooled_and_replayed_once(client: TestClient) -> None:
    store = client.app.state.store
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            (
                "import duckdb, sys, time; con = duckdb.connect(sys.argv[1], read_only=True);"
                " print('held', flush=True); time.sleep(30)"
            ),
            str(store.path),
        ],
        stdout=subprocess.PIPE,
    )
    try:
        assert holder.stdout and holder.stdout.readline().strip() == b"held"
        article_id, ordinal = label(client, "washington")
        assert store.pending and "spool" in client.get("/queue?saved=spooled").text
        assert queue_key(client.get("/queue").text) != (article_id, ordinal)
    finally:
        holder.kill()
        holder.wait()
    assert store.sink.replay() == 1 and store.sink.replay() == 0
    with reader(store.path) as con:
        assert con.execute("SELECT label FROM labels").fetchall() == [("washington",)]


def test_token_is_checked_on_every_request(web_warehouse: WebWarehouse, tmp_path: Path) -> None:
    app = create_app(copy_warehouse(web_warehouse, tmp_path), token="s3cret")
    client = TestClient(app, base_url="http://192.0.2.10:8765")
    assert client.get("/").status_code == 401
    assert client.get("/static/app.js").status_code == 401
    assert client.get("/login", params={"token": "nope"}).status_code == 401
    assert client.get("/", headers={"Authorization": "Bearer s3cret"}).status_code == 200
    assert client.get("/login", params={"token": "s3cret"}).status_code == 200  # redirected, cookie set
    assert client.get("/sources").status_code == 200
    open_app = TestClient(
        create_app(copy_warehouse(web_warehouse, tmp_path / "b")), base_url="http://evil.example"
    )
    assert open_app.get("/").status_code == 421
    with pytest.raises(WebError):
        check_binding("0.0.0.0", None)
    check_binding("0.0.0.0", "t")
    check_binding("127.0.0.1", None)
    assert main(["web", "--host", "0.0.0.0", "--db", str(tmp_path / "x.duckdb"), "--quiet"]) == 2


def test_search_finds_korean_and_sources_show_health(client: TestClient, web_warehouse: WebWarehouse) -> None:
    page = client.get("/search", params={"q": web_warehouse.korean_word}).text
    assert int(re.search(r'id="search-count">(\d+) articles', page).group(1)) >= 1
    assert "ko" in page
    sources = client.get("/sources").text
    for sid in ("wire", "state", "ko-daily", "hostile"):
        assert f">{sid}<" in sources
    assert "silent weeks" in sources.lower()


def test_article_page_shows_voice_when_the_model_stores_it(
    web_warehouse: WebWarehouse, tmp_path: Path
) -> None:
    settings = copy_warehouse(web_warehouse, tmp_path)
    client = TestClient(create_app(settings), base_url=BASE)
    article_id, _ = queue_key(client.get("/queue").text)
    with duckdb.connect(str(settings.warehouse_path)) as con:  # rows scored before voices were stored
        con.execute("UPDATE passage_scores SET voice = NULL WHERE article_id = ?", [article_id])
    unread = TestClient(create_app(settings), base_url=BASE).get(f"/article/{article_id}").text
    assert "· voice " not in unread
    with duckdb.connect(str(settings.warehouse_path)) as con:
        con.execute("UPDATE passage_scores SET voice = 'beijing' WHERE article_id = ?", [article_id])
    fresh = TestClient(create_app(settings), base_url=BASE)
    assert "· voice beijing" in fresh.get(f"/article/{article_id}").text


def test_search_ranks_by_relevance_and_shows_the_matching_passage(client: TestClient) -> None:
    page = client.get("/search", params={"q": "alliance Washington"}).text
    assert "most relevant first" in page
    ranks = [float(r) for r in re.findall(r'<tr data-rank="([0-9.]+)">', page)]
    assert len(ranks) >= 2 and ranks == sorted(ranks, reverse=True)  # BM25, not dates
    passages = [html.unescape(p) for p in re.findall(r'<div class="hit-passage muted">([^<]*)', page)]
    assert passages and all("alliance" in p.lower() or "washington" in p.lower() for p in passages)


def test_article_page_says_why_an_article_has_no_score(web_warehouse: WebWarehouse, tmp_path: Path) -> None:
    """An unscored article says which part of the relevance rule it failed: too few relevant
    passages, or (its share passed) no relevant passage names South Korea."""
    settings = copy_warehouse(web_warehouse, tmp_path)
    article_id, _ = queue_key(TestClient(create_app(settings), base_url=BASE).get("/queue").text)
    shown = TestClient(create_app(settings), base_url=BASE).get(f"/article/{article_id}").text
    assert 'id="unscored-reason"' not in shown
    for share, reason in (
        (0.1, "10% of its passages read as relevant, under the 20%"),
        (0.5, "names South Korea"),
    ):
        with duckdb.connect(str(settings.warehouse_path)) as con:
            con.execute(
                "UPDATE article_scores SET score = NULL, label = 'irrelevant', relevant_share = ?"
                " WHERE article_id = ?",
                [share, article_id],
            )
        page = TestClient(create_app(settings), base_url=BASE).get(f"/article/{article_id}").text
        found = re.search(r'<p class="muted" id="unscored-reason">Not on the axis: ([^<]*)\.</p>', page)
        assert found is not None and reason in html.unescape(found.group(1)), page[:1500]
