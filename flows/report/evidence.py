"""Evidence worth quoting: one confident passage per relevant article, never repeating its title."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import urlsplit

from flows.report.facts import Candidate
from flows.report.palette import display_name
from flows.report.render import Card, Cards, Link, Paragraph, Section, not_enough

PER_POLE = 5
EXCERPT_CHARS = 280
LINK_CHARS = 60
"""Longest link text of an evidence card (a title is shortened on a word boundary)."""
VOICES = {
    "author": "author",
    "beijing": "Beijing side",
    "seoul": "Seoul",
    "washington": "Washington",
    "other": "other actor",
}
DEFAULT_CONFIDENCE = 0.6
"""Used when the model card states no abstention/confidence threshold."""
POLE_TITLES = {"washington": "Toward Washington", "beijing": "Toward Beijing", "hedge": "Hedging"}
_LEADING_JUNK = re.compile(r"^[\s\-–—:|·•.,;]+")


def _norm(text: str) -> str:
    """Text compared for title stripping: NFKC, lower case, single spaces."""
    return " ".join(unicodedata.normalize("NFKC", text).lower().split())


def split_title(text: str, title: str | None) -> tuple[str, bool]:
    """The passage to quote and whether the title may be shown beside it, never both repeating.

    A page's <h1> merged into the first passage (title, then a line break) is stripped. A title that
    is only the opening words of the passage (feeds without titles) is not shown; the passage is.
    """
    raw, head = text.strip(), (title or "").strip()
    if head and raw.startswith(head) and raw[len(head) : len(head) + 1] not in ("\n", "\r", ""):
        return " ".join(raw.split()), False
    return strip_title(text, title), True


def strip_title(text: str, title: str | None) -> str:
    """The passage without a leading copy of the article's title (pages merge their <h1> into it)."""
    clean = " ".join(text.split())
    if not title or not _norm(title):
        return clean
    want, words = _norm(title), clean.split(" ")
    for i in range(1, len(words) + 1):
        head = _norm(" ".join(words[:i]))
        if head == want:
            return _LEADING_JUNK.sub("", " ".join(words[i:]))
        if not want.startswith(head):
            break
    if _norm(clean).startswith(want):  # CJK titles glued to the text without a space
        return _LEADING_JUNK.sub("", clean[len(title.strip()) :])
    return clean


def excerpt(text: str) -> str:
    """A passage shortened to ``EXCERPT_CHARS`` on a word boundary."""
    if len(text) <= EXCERPT_CHARS:
        return text
    cut = text[:EXCERPT_CHARS]
    return (cut.rsplit(" ", 1)[0] if " " in cut[-40:] else cut) + " …"


def card_threshold(card: Any, depth: int = 0) -> float | None:
    """A confidence/abstention threshold stated in the model card (any nesting), or None."""
    if not isinstance(card, dict) or depth > 4:
        return None
    for key, value in card.items():
        name = str(key).lower()
        named = ("abstain" in name or "confiden" in name) and "threshold" in name
        if named and isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, dict):
            if ("abstain" in name or "abstention" in name) and isinstance(
                value.get("threshold"), int | float
            ):
                return float(value["threshold"])
            found = card_threshold(value, depth + 1)
            if found is not None:
                return found
    return None


Quote = tuple[Candidate, str, bool]
"""A candidate, the passage text to show, and whether its title may be shown beside it."""


def quotable(candidates: Iterable[Candidate], threshold: float) -> list[Quote]:
    """At most one passage per article: its strongest confident passage whose text is not just the title."""
    best: dict[str, Quote] = {}
    for c in candidates:
        text, titled = split_title(c.text, c.title)
        if c.confidence < threshold or len(text) < 20:
            continue
        if c.article_id not in best or c.strength > best[c.article_id][0].strength:
            best[c.article_id] = (c, text, titled)
    return sorted(best.values(), key=lambda ct: (-ct[0].strength, ct[0].article_id, ct[0].ordinal))


def short(text: str, limit: int = LINK_CHARS) -> str:
    """``text`` on one line, cut to ``limit`` characters on a word boundary where there is one."""
    line = " ".join(text.split())
    if len(line) <= limit:
        return line
    cut = line[: limit - 1]
    return (cut.rsplit(" ", 1)[0] if " " in cut[limit // 2 :] else cut) + "…"


def link_text(quote: Quote) -> str:
    """A short link text: the title (shortened), or the site's name when the title repeats the passage."""
    c, _, titled = quote
    if titled and c.title:
        return short(c.title)
    host = urlsplit(c.url).hostname or ""
    return f"article on {host.removeprefix('www.')}" if host else "article"


def evidence_card(quote: Quote) -> Card:
    """One evidence card: outlet, date, language, voice, strength and a short link beside the passage."""
    c, text, _ = quote
    return Card(
        strength=f"{c.strength:.2f}",
        outlet=c.source_name,
        day=c.day.isoformat(),
        language=display_name("language", c.language or ""),
        voice=VOICES.get(c.voice or "", c.voice or ""),
        link=Link(link_text(quote), c.url),
        passage=excerpt(text),
    )


def evidence_section(candidates: Sequence[Candidate], card: dict[str, Any], week: str) -> list[Section]:
    """The evidence section: per pole, the strongest quotable passages of this week's relevant articles."""
    stated = card_threshold(card)
    threshold = stated if stated is not None else DEFAULT_CONFIDENCE
    source = "from the model card" if stated is not None else "default; the model card states none"
    top = Section(
        "Evidence worth quoting",
        [
            Paragraph(
                "Passages from articles judged relevant, at most one per article, only where the model's top "
                f"probability is at least {threshold:.2f} ({source}); ranked by P(pole) × relevance. "
                "A leading copy of the headline is removed from the passage."
            )
        ],
    )
    picked = quotable(candidates, threshold)
    sections = [top]
    for pole, title in POLE_TITLES.items():
        sub = Section(title, level=3)
        rows = [q for q in picked if q[0].label == pole][:PER_POLE]
        if rows:
            sub.blocks.append(Cards(tuple(evidence_card(q) for q in rows)))
        else:
            sub.blocks.append(not_enough(f"no confident {pole} passage in a relevant article dated {week}."))
        sections.append(sub)
    return sections
