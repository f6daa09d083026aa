"""The weekly report as a small document model, rendered to Markdown and to self-contained HTML."""

from __future__ import annotations

import base64
import html
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit

NOT_ENOUGH_DATA = "Not enough data"


@dataclass(frozen=True)
class Link:
    """A hyperlink cell; only http(s) URLs become links, anything else is shown as text."""

    text: str
    url: str


Cell = str | Link


@dataclass(frozen=True)
class Paragraph:
    """A paragraph of plain text; ``role`` names it for the page ('headline', 'why', 'meta')."""

    text: str
    strong: bool = False
    role: str = ""


@dataclass(frozen=True)
class Note:
    """An honest caveat, e.g. 'Not enough data: ...' (rendered as a call-out; 'banner' at the top)."""

    text: str
    role: str = ""


@dataclass(frozen=True)
class Card:
    """One evidence passage: who said it where and when, how strongly, and a short link."""

    strength: str
    outlet: str
    day: str
    language: str
    voice: str
    link: Link
    passage: str


@dataclass(frozen=True)
class Cards:
    """Evidence cards (a grid that fits 1280 px and prints one card unbroken)."""

    cards: tuple[Card, ...]


@dataclass(frozen=True)
class Bullets:
    """A bulleted list of plain-text items."""

    items: tuple[str, ...]


@dataclass(frozen=True)
class Table:
    """A table of cells under a header row."""

    headers: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]


@dataclass(frozen=True)
class Chart:
    """A PNG chart written next to the report (embedded as a data: URI in HTML)."""

    path: Path
    alt: str
    role: str = ""


Block = Paragraph | Note | Bullets | Table | Chart | Cards


@dataclass(frozen=True)
class Claim:
    """A sentence that states a level or a change, with the numbers it rests on (report.json)."""

    text: str
    n: int
    mean: float | None
    low: float | None
    high: float | None


@dataclass
class Section:
    """A titled section (level 2) or subsection (level 3) with its blocks."""

    title: str
    blocks: list[Block] = field(default_factory=list)
    level: int = 2
    claims: list[Claim] = field(default_factory=list)


@dataclass
class Document:
    """The whole report: a title, lead paragraphs and sections."""

    title: str
    lead: list[Block]
    sections: list[Section]

    def charts(self) -> list[Path]:
        """Every chart path the document shows, in order."""
        blocks = [*self.lead, *(b for s in self.sections for b in s.blocks)]
        return [b.path for b in blocks if isinstance(b, Chart)]

    def claims(self) -> list[Claim]:
        """Every sentence of the document that states a level or change, with its numbers."""
        return [c for s in self.sections for c in s.claims]


def not_enough(reason: str) -> Note:
    """A 'Not enough data: <reason>' note."""
    return Note(f"{NOT_ENOUGH_DATA}: {reason}")


def safe_url(url: str) -> str | None:
    """The URL if it is an absolute http(s) URL with a host (feed-supplied links may be anything)."""
    if url != url.strip() or any(ord(c) < 32 or c == "\x7f" for c in url):
        return None
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return None
    return url if parts.scheme.lower() in ("http", "https") and host else None


# ---------------------------------------------------------------- markdown


_MD_SPECIAL = re.compile(r"([\\`*\[\]|#~!{}]|(?<!\w)_|_(?!\w))")
_MD_LINE_START = re.compile(r"^([-+=]|\d+(?=[.)]))")


def _md_text(text: str) -> str:
    """Markdown that shows ``text`` literally inside a line: one line, HTML specials as entities,
    backslashes, pipes, brackets, emphasis and code marks escaped."""
    line = html.escape(" ".join(text.split()), quote=False)
    return _MD_SPECIAL.sub(r"\\\1", line)


def _md_line(text: str) -> str:
    """``_md_text`` for the start of a block too: no list, heading or setext marker at its start."""
    line = _md_text(text)
    return _MD_LINE_START.sub(
        lambda m: m.group(0) + "\\" if m.group(0)[0].isdigit() else "\\" + m.group(0), line
    )


def _md_cell(cell: Cell) -> str:
    """One Markdown table cell (a link only for an http(s) URL, percent-encoded)."""
    if isinstance(cell, Link):
        url = safe_url(cell.url)
        label = _md_text(cell.text)
        return f"[{label}]({quote(url, safe=':/?#&=%+@;,~!*$')})" if url else label
    return _md_text(cell)


def _md_block(block: Block) -> str:
    """One block as Markdown."""
    if isinstance(block, Paragraph):
        return f"**{_md_text(block.text)}**" if block.strong else _md_line(block.text)
    if isinstance(block, Note):
        return f"> {_md_line(block.text)}"
    if isinstance(block, Bullets):
        return "\n".join(f"- {_md_line(item)}" for item in block.items)
    if isinstance(block, Chart):
        return f"![{_md_text(block.alt)}]({quote(block.path.name)})"
    if isinstance(block, Cards):
        return "\n".join(_md_card(c) for c in block.cards)
    head = "| " + " | ".join(_md_text(h) for h in block.headers) + " |"
    rule = "|" + "|".join("---" for _ in block.headers) + "|"
    body = ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in block.rows]
    return "\n".join([head, rule, *body])


def _md_card(card: Card) -> str:
    """One evidence card as a list item: the passage quoted, then strength, outlet, date, voice, link."""
    facts = (f"strength {card.strength}", card.outlet, card.day, card.language, card.voice)
    meta = " · ".join(_md_text(x) for x in facts if x)
    return f"- “{_md_text(card.passage)}” — {meta} · {_md_cell(card.link)}"


def to_markdown(doc: Document) -> str:
    """The document as GitHub-flavoured Markdown (charts referenced by file name)."""
    parts = [f"# {_md_text(doc.title)}", *(_md_block(b) for b in doc.lead)]
    for section in doc.sections:
        parts.append("#" * section.level + " " + _md_text(section.title))
        parts.extend(_md_block(b) for b in section.blocks)
    return "\n\n".join(parts) + "\n"


# ---------------------------------------------------------------- html

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", "Noto Sans", "Noto Sans CJK KR",
       "Noto Sans CJK SC", "Noto Sans CJK JP", "Apple SD Gothic Neo", "Malgun Gothic", "PingFang SC",
       "Microsoft YaHei", sans-serif; max-width: 60rem;
       margin: 1rem auto; padding: 0 1rem; color: #1b1b1b; line-height: 1.45; }
h1 { font-size: 1.5rem; margin: 0.4rem 0; } h2 { margin-top: 2rem; border-bottom: 1px solid #ddd; }
h2.first { margin-top: 0.6rem; }
.scroll { overflow-x: auto; max-width: 100%; }
table { border-collapse: collapse; margin: 0.8rem 0; font-size: 0.9rem; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.5rem; vertical-align: top; text-align: left;
         overflow-wrap: normal; word-break: normal; hyphens: manual; }
td a { overflow-wrap: break-word; }
th { background: #f3f3f3; }
.note { background: #fff6e0; border-left: 4px solid #e0a800; padding: 0.5rem 0.8rem; }
.banner { background: #fde8e8; border-left: 6px solid #c0392b; font-weight: 600; margin: 0.4rem 0; }
.meta { color: #555; font-size: 0.85rem; margin: 0.2rem 0; }
.headline { font-size: 1.1rem; margin: 0.4rem 0; }
.why { margin: 0.3rem 0; }
img { max-width: 100%; height: auto; display: block; margin: 0.8rem 0; }
img.key { margin: 0.3rem 0; }
.nw { white-space: nowrap; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(26rem, 1fr)); gap: 0.8rem;
         margin: 0.8rem 0; }
.card { border: 1px solid #ccc; border-radius: 6px; padding: 0.6rem 0.8rem; break-inside: avoid; }
.card blockquote { margin: 0 0 0.5rem 0; overflow-wrap: break-word; }
.card .facts { font-size: 0.82rem; color: #444; display: flex; flex-wrap: wrap; gap: 0.2rem 0.8rem; }
.card .facts span { white-space: nowrap; }
.card .facts a { overflow-wrap: break-word; }
.card .strength { font-weight: 700; color: #1b1b1b; }
@page { size: A4; margin: 14mm; }
@media print {
  body { max-width: none; margin: 0; padding: 0; font-size: 10.5pt; }
  h2, h3 { break-after: avoid; }
  img, tr, .card, .note { break-inside: avoid; }
  .cards { grid-template-columns: 1fr; }
  .scroll { overflow: visible; }
  table { font-size: 8pt; } th, td { padding: 0.1rem 0.25rem; }
  a { color: inherit; }
}
"""


_JOINED = re.compile(r"\S*[-‐/]\S*")
KEEP_CHARS = 40
"""Hyphenated or slashed words up to this length are never split across lines (dates, 'think-tank')."""


def _keep_words(text: str) -> str:
    """``text`` as HTML in which no hyphenated or slashed word (up to KEEP_CHARS) breaks across lines."""
    out, last = [], 0
    for m in _JOINED.finditer(text):
        if len(m.group(0)) > KEEP_CHARS or "://" in m.group(0):
            continue
        out += [html.escape(text[last : m.start()]), f'<span class="nw">{html.escape(m.group(0))}</span>']
        last = m.end()
    return "".join([*out, html.escape(text[last:])])


def _html_cell(cell: Cell) -> str:
    """One HTML table cell's content."""
    if isinstance(cell, Link):
        url = safe_url(cell.url)
        text = _keep_words(cell.text)
        return f'<a href="{html.escape(url, quote=True)}">{text}</a>' if url else text
    return _keep_words(cell)


def png_data_uri(path: Path) -> str:
    """A PNG file as a base64 data: URI."""
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def _html_card(card: Card) -> str:
    """One evidence card: the passage, then its facts, each fact kept on one line."""
    facts = [f'<span class="strength">strength {html.escape(card.strength)}</span>']
    facts += [f"<span>{html.escape(x)}</span>" for x in (card.outlet, card.day, card.language) if x]
    if card.voice:
        facts.append(f"<span>voice: {html.escape(card.voice)}</span>")
    facts.append(_html_cell(card.link))
    return (
        f'<article class="card"><blockquote>{_keep_words(card.passage)}</blockquote>'
        f'<div class="facts">{"".join(facts)}</div></article>'
    )


def _html_block(block: Block) -> str:
    """One block as HTML."""
    if isinstance(block, Paragraph):
        text = html.escape(block.text)
        attr = f' class="{block.role}"' if block.role else ""
        return f"<p{attr}><strong>{text}</strong></p>" if block.strong else f"<p{attr}>{text}</p>"
    if isinstance(block, Note):
        role = f" {block.role}" if block.role else ""
        return f'<p class="note{role}">{html.escape(block.text)}</p>'
    if isinstance(block, Bullets):
        items = "".join(f"<li>{html.escape(i)}</li>" for i in block.items)
        return f"<ul>{items}</ul>"
    if isinstance(block, Chart):
        alt = html.escape(block.alt, quote=True)
        attr = f' class="{block.role}"' if block.role else ""
        return f'<img src="{png_data_uri(block.path)}" alt="{alt}"{attr}>'
    if isinstance(block, Cards):
        return '<div class="cards">' + "".join(_html_card(c) for c in block.cards) + "</div>"
    head = "".join(f"<th>{html.escape(h)}</th>" for h in block.headers)
    body = "".join("<tr>" + "".join(f"<td>{_html_cell(c)}</td>" for c in row) + "</tr>" for row in block.rows)
    table = f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    return f'<div class="scroll">{table}</div>'


def to_html(doc: Document) -> str:
    """The document as one self-contained HTML page (charts inline, no external resources)."""
    parts = [f"<h1>{html.escape(doc.title)}</h1>", *(_html_block(b) for b in doc.lead)]
    for i, section in enumerate(doc.sections):
        level = min(max(section.level, 2), 4)
        first = ' class="first"' if i == 0 else ""
        parts.append(f"<h{level}{first}>{html.escape(section.title)}</h{level}>")
        parts.extend(_html_block(b) for b in section.blocks)
    body = "\n".join(parts)
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(doc.title)}</title>\n<style>{_CSS}</style>\n</head>\n"
        f"<body>\n{body}\n</body>\n</html>\n"
    )
