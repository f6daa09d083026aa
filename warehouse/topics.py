"""Topic tags: a versioned trilingual dictionary (seeds/topics.toml) matched on normalised text.

A term is tokenised like the search index (warehouse/search_text.py) and matches where its
tokens occur contiguously in an article's search text, so 주한미군 matches 주한미군이 and 萨德
matches 萨德系统; a trailing ``*`` lets the last word run on (tariff* → tariffs). ``tag_topics``
(the sink op of that name) tags every article not yet tagged by this dictionary's content.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from warehouse import query
from warehouse.db import insert_rows
from warehouse.search_text import tokens

LANGUAGES = ("en", "ko", "zh")
BATCH = 500


class TopicsError(ValueError):
    """The topic dictionary file is unusable."""


@dataclass(frozen=True)
class Topic:
    """One topic: id, display name, compiled term patterns, occurrences needed to tag."""

    topic_id: str
    name: str
    patterns: tuple[re.Pattern[str], ...]
    min_hits: int = 1

    def hits(self, search_text: str) -> int:
        """Occurrences of the topic's terms in a normalised search text."""
        return sum(len(p.findall(search_text)) for p in self.patterns)


def term_pattern(term: str) -> re.Pattern[str] | None:
    """The regex of one term over space-separated tokens; None when the term has no tokens."""
    prefix = term.endswith("*")
    words = tokens(term.rstrip("*"))
    if not words:
        return None
    body = " ".join(re.escape(w) for w in words) + (r"\S*" if prefix else "")
    return re.compile(rf"(?<!\S){body}(?!\S)")


def load_dictionary(path: Path) -> dict[str, Any]:
    """The dictionary file as plain data (what the tag_topics op receives), checked."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise TopicsError(f"{path}: {exc}") from exc
    if not isinstance(data.get("version"), int) or not data.get("topics"):
        raise TopicsError(f"{path}: needs an integer `version` and at least one [[topics]]")
    ids = [t.get("id") for t in data["topics"]]
    if len(set(ids)) != len(ids) or not all(isinstance(i, str) and i for i in ids):
        raise TopicsError(f"{path}: every topic needs a unique id")
    for topic in data["topics"]:
        if not any(topic.get(lang) for lang in LANGUAGES) or not topic.get("name"):
            raise TopicsError(f"{path}: topic {topic['id']} needs a name and en/ko/zh terms")
    return data


def compile_topics(dictionary: dict[str, Any]) -> list[Topic]:
    """The dictionary's topics with their term patterns compiled."""
    out = []
    for t in dictionary["topics"]:
        terms = [term for lang in LANGUAGES for term in t.get(lang, [])]
        patterns = tuple(p for p in map(term_pattern, terms) if p is not None)
        out.append(Topic(t["id"], t["name"], patterns, int(t.get("min_hits", 1))))
    return out


def content_hash(dictionary: dict[str, Any]) -> str:
    """A short hash of the dictionary's content (any edit re-tags, even without a version bump)."""
    return hashlib.sha256(json.dumps(dictionary, sort_keys=True).encode()).hexdigest()[:16]


def article_topics(topics: list[Topic], search_text: str) -> dict[str, int]:
    """topic id → hits for the topics an article's search text carries."""
    found = {t.topic_id: t.hits(search_text) for t in topics}
    return {tid: n for tid, n in found.items() if n >= next(t.min_hits for t in topics if t.topic_id == tid)}


def _sync_topics(con: duckdb.DuckDBPyConnection, dictionary: dict[str, Any]) -> None:
    """Replace the topics table with this dictionary's topics."""
    con.execute("DELETE FROM topics")
    rows = [
        {"topic_id": t["id"], "name": t["name"], "dictionary_version": dictionary["version"], "position": i}
        for i, t in enumerate(dictionary["topics"])
    ]
    insert_rows(con, "topics", rows)


def tag_topics(con: duckdb.DuckDBPyConnection, dictionary: dict[str, Any]) -> int:
    """Tag every article whose search text this dictionary has not tagged yet; return how many."""
    topics, digest, version = compile_topics(dictionary), content_hash(dictionary), dictionary["version"]
    _sync_topics(con, dictionary)
    done = 0
    while rows := query.rows(con, "topics_stale", [digest, BATCH]):
        ids = [aid for aid, _ in rows]
        tags = [
            {"article_id": aid, "topic_id": tid, "hits": n, "dictionary_version": version}
            for aid, text in rows
            for tid, n in article_topics(topics, text).items()
        ]
        con.execute(query.text("topics_forget"), {"ids": ids})
        insert_rows(con, "article_topics", tags)
        con.execute(query.text("topics_mark"), {"ids": ids, "hash": digest})
        done += len(ids)
    return done
