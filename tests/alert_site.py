"""A demo-like warehouse for the alert tests: five weeks of scored articles from seven outlets in
three countries (seeded rows, no model), optionally with a shift toward Beijing in the Korean
newspapers on the last two complete days; and the loopback receivers notifications go to."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from aiosmtpd.controller import Controller

from flows.settings import Settings
from tests.test_views import insert
from warehouse.db import writer

TZ = ZoneInfo("Asia/Seoul")
DAYS = 35
# source id -> (country, language, kind, daily articles, mean score)
OUTLETS = {
    "kr-daily": ("KR", "ko", "newspaper", 5, 0.15),
    "kr-herald": ("KR", "ko", "newspaper", 4, 0.1),
    "kr-times": ("KR", "en", "newspaper", 3, 0.2),
    "cn-global": ("CN", "zh", "state-media", 4, -0.5),
    "cn-daily": ("CN", "en", "state-media", 3, -0.45),
    "us-review": ("US", "en", "think-tank", 2, 0.4),
    "us-post": ("US", "en", "newspaper", 2, 0.35),
}
SHIFTED = ("kr-daily", "kr-herald")
SHIFT_TEXT = "Beijing warned Seoul that THAAD deployment betrays China's trust, Chinese officials said."


def complete_day(now: datetime) -> date:
    """The last complete day in Seoul."""
    return now.astimezone(TZ).date() - timedelta(days=1)


def at_noon(day: date, hour: int = 12) -> datetime:
    """A Seoul day's hour as an aware UTC datetime."""
    return datetime.combine(day, time(hour), TZ).astimezone(UTC)


def source_rows(now: datetime) -> list[dict[str, Any]]:
    """The seven outlets as sources rows."""
    return [
        {
            "source_id": sid,
            "name": sid.replace("-", " ").title(),
            "feed_url": f"http://127.0.0.1/{sid}.xml",
            "country": c,
            "language": lang,
            "kind": k,
            "affiliation": None,
            "synced_at": now,
        }
        for sid, (c, lang, k, _, _) in OUTLETS.items()
    ]


def article_rows(
    aid: str, sid: str, when: datetime, score: float, version: str, voice: str
) -> dict[str, list[Any]]:
    """The article, passage, passage score and article score rows of one single-passage article."""
    pole = "washington" if score > 0.2 else "beijing" if score < -0.2 else "hedge"
    probs = {"washington": max(0.0, score) * 0.9, "beijing": max(0.0, -score) * 0.9}
    probs["hedge"] = 0.9 - probs["washington"] - probs["beijing"]
    text = SHIFT_TEXT if voice == "beijing" else f"Commentary {aid} on Seoul between Washington and Beijing."
    return {
        "articles": [
            {
                "article_id": aid,
                "canonical_url": f"http://127.0.0.1/a/{aid}",
                "url": f"http://127.0.0.1/a/{aid}",
                "source_id": sid,
                "title": f"Story {aid}",
                "published_at": when,
                "text": text,
                "text_chars": len(text),
                "text_hash": aid,
                "extraction_method": "feed_content",
                "extracted_at": when,
            }
        ],
        "passages": [{"article_id": aid, "ordinal": 0, "start_char": 0, "end_char": len(text), "text": text}],
        "passage_scores": [
            {
                "article_id": aid,
                "ordinal": 0,
                "model_version": version,
                **{f"p_{k}": v for k, v in probs.items()},
                "p_irrelevant": 0.1,
                "label": pole,
                "score": round(score * 0.9, 6),
                "scored_at": when,
                "voice": voice,
            }
        ],
        "article_scores": [
            {
                "article_id": aid,
                "model_version": version,
                "score": round(score * 0.9, 6),
                "label": pole,
                "confidence": 0.9,
                "relevant_share": 1.0,
                "n_passages": 1,
                "evidence_json": "[]",
                "scored_at": when,
            }
        ],
    }


def corpus(
    through: date, version: str, *, shift: bool, days: int = DAYS, seed: int = 7
) -> dict[str, list[Any]]:
    """Every row of the corpus: ``days`` days ending on ``through`` (the shift: its last two days)."""
    rng = np.random.default_rng(seed)
    tables: dict[str, list[Any]] = {
        "articles": [],
        "passages": [],
        "passage_scores": [],
        "article_scores": [],
        "article_topics": [],
    }
    for d in range(days):
        day = through - timedelta(days=days - 1 - d)
        shifted = shift and d >= days - 2
        for sid, (_, _, _, per_day, mean) in OUTLETS.items():
            for i in range(per_day):
                aid = f"{sid}-{d:02d}-{i}"
                toward_beijing = shifted and sid in SHIFTED
                score = float(np.clip(rng.normal(-0.7 if toward_beijing else mean, 0.35), -1, 1))
                rows = article_rows(
                    aid, sid, at_noon(day, 8 + i), score, version, "beijing" if toward_beijing else "author"
                )
                for table, got in rows.items():
                    tables[table] += got
                if toward_beijing or rng.random() < 0.1:
                    tables["article_topics"].append(
                        {"article_id": aid, "topic_id": "thaad", "hits": 1, "dictionary_version": 1}
                    )
    return tables


def seed_warehouse(
    settings: Settings, version: str, card: dict[str, Any], now: datetime, *, shift: bool, held_back: int = 0
) -> None:
    """Write the corpus into the settings' warehouse with ``version`` registered complete; its last
    ``held_back`` complete days are left for feeds to bring."""
    with writer(settings.location) as con:
        insert(con, "sources", source_rows(now))
        insert(
            con,
            "model_versions",
            [
                {
                    "model_version": version,
                    "created_at": now,
                    "completed_at": now,
                    "card_json": json.dumps(card),
                }
            ],
        )
        insert(
            con,
            "topics",
            [
                {
                    "topic_id": "thaad",
                    "name": "THAAD & missile defence",
                    "dictionary_version": 1,
                    "position": 0,
                }
            ],
        )
        end = complete_day(now) - timedelta(days=held_back)
        for table, rows in corpus(end, version, shift=shift, days=DAYS - held_back).items():
            insert(con, table, rows)


@dataclass
class Inbox:
    """What the loopback receivers got: e-mails (SMTP) and webhook bodies (JSON)."""

    mails: list[bytes] = field(default_factory=list)
    hooks: list[dict[str, Any]] = field(default_factory=list)


class _SmtpHandler:
    """aiosmtpd handler that keeps every message."""

    def __init__(self, inbox: Inbox) -> None:
        self.inbox = inbox

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.inbox.mails.append(envelope.content)
        return "250 OK"


def free_port() -> int:
    """A free TCP port on 127.0.0.1 (for servers that need one named)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def receivers() -> Iterator[tuple[Inbox, str, str]]:
    """A local SMTP server and webhook receiver on 127.0.0.1: (inbox, mailto URL, json URL)."""
    inbox = Inbox()

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            inbox.hooks.append(json.loads(body or b"{}"))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    smtp = Controller(_SmtpHandler(inbox), hostname="127.0.0.1", port=free_port())
    smtp.start()
    hook = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    try:
        mail = f"mailto://127.0.0.1:{smtp.port}?from=axiswatch@example.com&to=analyst@example.com"
        yield inbox, mail, f"json://127.0.0.1:{hook.server_address[1]}/hook"
    finally:
        hook.shutdown()
        hook.server_close()
        smtp.stop()
