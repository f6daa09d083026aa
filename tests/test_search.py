"""Search in English, Korean and Chinese: normalised search text, recall@10 on a small corpus with
known answers, the `axiswatch search` command, and the SQL macro that tokenises like Python."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from flows.cli.commands import main
from flows.cli.search import search_rows
from flows.ingest import dedup as neardup
from warehouse import db
from warehouse.search_index import refresh_fts
from warehouse.search_text import query_terms, search_text, tokens

CORPUS = json.loads((Path(__file__).parent / "data" / "search_corpus.json").read_text(encoding="utf-8"))
NOW = datetime(2026, 11, 20, tzinfo=UTC)
TARGET = 0.9


def article_row(doc: dict[str, str]) -> dict[str, Any]:
    """An articles row for one corpus document (the title is also the text's first line)."""
    body = f"{doc['title']}\n{doc['text']}"
    return {
        "article_id": doc["id"],
        "canonical_url": f"https://x.test/{doc['id']}",
        "url": f"https://x.test/{doc['id']}",
        "source_id": f"src-{doc['lang']}",
        "title": doc["title"],
        "text": body,
        "text_chars": len(body),
        "text_hash": doc["id"],
        "fingerprint": neardup.to_bytes(neardup.signature(body)),
        "extraction_method": "trafilatura",
        "extracted_at": NOW,
        "published_at": NOW,
        "language": doc["lang"],
    }


def passage_rows(doc: dict[str, str]) -> list[dict[str, Any]]:
    """Two passages: the title line and the text."""
    parts = [doc["title"], doc["text"]]
    return [
        {
            "article_id": doc["id"],
            "ordinal": i,
            "start_char": 0,
            "end_char": len(t),
            "language": doc["lang"],
            "text": t,
        }
        for i, t in enumerate(parts)
    ]


@pytest.fixture(scope="module")
def corpus_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse holding the trilingual corpus, indexed; k1's text passage scored toward Beijing."""
    path = tmp_path_factory.mktemp("search") / "w.duckdb"
    with db.writer(path) as con:
        db.insert_rows(con, "articles", [article_row(d) for d in CORPUS["documents"]])
        db.insert_rows(con, "passages", [p for d in CORPUS["documents"] for p in passage_rows(d)])
        con.execute("INSERT INTO model_versions VALUES ('m1', ?, '{}', ?)", [NOW, NOW])
        con.execute(
            "INSERT INTO passage_scores VALUES"
            " ('k1', 1, 'm1', 0.1, 0.1, 0.7, 0.1, 'beijing', -0.6, 'use', ?, 'author')",
            [NOW],
        )
        assert refresh_fts(con) is True
        assert refresh_fts(con) is False  # nothing new: the index is not rebuilt
    return path


def recall_at_10(ranker: Callable[[str], list[str]]) -> dict[str, float]:
    """Mean recall@10 of the corpus queries, per language."""
    per_lang: dict[str, list[float]] = {}
    for q in CORPUS["queries"]:
        found = set(ranker(q["query"])[:10]) & set(q["relevant"])
        per_lang.setdefault(q["lang"], []).append(len(found) / len(q["relevant"]))
    return {lang: sum(v) / len(v) for lang, v in per_lang.items()}


def test_tokens_bigram_cjk_and_lowercase_words() -> None:
    assert tokens("사드가 배치") == ["사드", "드가", "배치"]
    assert tokens("美国要求萨德") == ["美国", "国要", "要求", "求萨", "萨德"]
    assert tokens("THAAD, Seoul's 2nd") == ["thaad", "seoul", "s", "2nd"]
    assert tokens("ＴＨＡＡＤ 가") == ["thaad", "가"]  # full-width folded; one-character run kept
    assert query_terms("美国 美国") == "美国" and search_text("A", None, "b") == "a b"


def test_recall_at_10_per_language(corpus_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with db.reader(corpus_db) as con:
        recall = recall_at_10(lambda q: [r[-1].rsplit("/", 1)[1] for r in search_rows(con, q, limit=10)])
    with capsys.disabled():
        print(f"\nsearch recall@10: {json.dumps(recall)}")
    assert all(recall[lang] >= TARGET for lang in ("en", "ko", "zh")), recall


def test_plain_fts_index_misses_chinese_and_korean_particles(tmp_path: Path) -> None:
    """The baseline the normalised text fixes: DuckDB's default tokenizer over the stored text."""
    con = duckdb.connect(str(tmp_path / "plain.duckdb"))
    db.load_fts(con)
    con.execute("CREATE TABLE docs (id VARCHAR, title VARCHAR, text VARCHAR)")
    con.executemany(
        "INSERT INTO docs VALUES (?, ?, ?)", [(d["id"], d["title"], d["text"]) for d in CORPUS["documents"]]
    )
    con.execute("PRAGMA create_fts_index('docs', 'id', 'title', 'text')")
    sql = (
        "SELECT id FROM (SELECT id, fts_main_docs.match_bm25(id, ?) AS s FROM docs)"
        " WHERE s IS NOT NULL ORDER BY s DESC"
    )
    recall = recall_at_10(lambda q: [r[0] for r in con.execute(sql, [q]).fetchall()])
    print(f"\nplain fts recall@10: {json.dumps(recall)}")
    assert recall["zh"] == 0.0 and recall["ko"] <= 0.6 and recall["en"] >= TARGET


def test_search_command_filters_and_shows_passage_stance(
    corpus_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["search", "--db", str(corpus_db), "사드", "--format", "json"]) == 0
    hits = json.loads(capsys.readouterr().out)
    assert [h["url"].rsplit("/", 1)[1] for h in hits][:2] in (["k1", "k2"], ["k2", "k1"])
    k1 = next(h for h in hits if h["url"].endswith("/k1"))
    assert k1["passage"].startswith("미국이 성주에 사드를") and k1["passage_stance"] == "beijing -0.60"
    assert main(["search", "--db", str(corpus_db), "关税", "--lang", "en", "--format", "csv"]) == 0
    assert capsys.readouterr().out.strip().splitlines() == [",".join(_columns())]
    assert main(["search", "--db", str(corpus_db), "tariff", "--since", "2026-12-01"]) == 0
    assert "(0 rows)" in capsys.readouterr().out
    assert main(["search", "--db", str(corpus_db), "...", "--format", "json"]) == 1
    assert "no searchable words" in capsys.readouterr().err


def _columns() -> tuple[str, ...]:
    from flows.cli.search import COLUMNS

    return COLUMNS


def test_sql_macro_tokenises_like_python(corpus_db: Path) -> None:
    samples = [d["title"] + " " + d["text"] for d in CORPUS["documents"]] + ["사드가 THAAD's 萨德系统 a"]
    with db.reader(corpus_db) as con:
        for text in samples:
            assert con.execute("SELECT search_terms(?)", [text]).fetchone() == (query_terms(text),), text
        db.load_fts(con)
        row = con.execute(
            "SELECT article_id FROM (SELECT article_id, fts_main_article_search.match_bm25(article_id,"
            " search_terms('사드')) AS s FROM article_search) WHERE s IS NOT NULL ORDER BY article_id"
        ).fetchall()
    assert row == [("k1",), ("k2",)]
