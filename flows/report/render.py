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
    """A paragraph of plain text."""

    text: str
    strong: bool = False


@dataclass(frozen=True)
class Note:
    """An honest caveat, e.g. 'Not enough data: ...' (rendered as a call-out)."""

    text: str


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


Block = Paragraph | Note | Bullets | Table | Chart


@dataclass
class Section:
    """A titled section (level 2) or subsection (level 3) with its blocks."""

    title: str
    blocks: list[Block] = field(default_factory=list)
    level: int = 2


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
    head = "| " + " | ".join(_md_text(h) for h in block.headers) + " |"
    rule = "|" + "|".join("---" for _ in block.headers) + "|"
    body = ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in block.rows]
    return "\n".join([head, rule, *body])


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
       "Microsoft YaHei", sans-serif; max-width: 60rem; overflow-wrap: anywhere;
       margin: 2rem auto; padding: 0 1rem; color: #1b1b1b; line-height: 1.45; }
h1 { font-size: 1.6rem; } h2 { margin-top: 2.2rem; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: 0.8rem 0; font-size: 0.9rem; max-width: 100%; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.5rem; vertical-align: top; text-align: left; }
th { background: #f3f3f3; }
.note { background: #fff6e0; border-left: 4px solid #e0a800; padding: 0.5rem 0.8rem; }
img { max-width: 100%; height: auto; display: block; margin: 0.8rem 0; }
"""


def _html_cell(cell: Cell) -> str:
    """One HTML table cell's content."""
    if isinstance(cell, Link):
        url = safe_url(cell.url)
        text = html.escape(cell.text)
        return f'<a href="{html.escape(url, quote=True)}">{text}</a>' if url else text
    return html.escape(cell)


def png_data_uri(path: Path) -> str:
    """A PNG file as a base64 data: URI."""
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def _html_block(block: Block) -> str:
    """One block as HTML."""
    if isinstance(block, Paragraph):
        text = html.escape(block.text)
        return f"<p><strong>{text}</strong></p>" if block.strong else f"<p>{text}</p>"
    if isinstance(block, Note):
        return f'<p class="note">{html.escape(block.text)}</p>'
    if isinstance(block, Bullets):
        items = "".join(f"<li>{html.escape(i)}</li>" for i in block.items)
        return f"<ul>{items}</ul>"
    if isinstance(block, Chart):
        alt = html.escape(block.alt, quote=True)
        return f'<img src="{png_data_uri(block.path)}" alt="{alt}">'
    head = "".join(f"<th>{html.escape(h)}</th>" for h in block.headers)
    body = "".join("<tr>" + "".join(f"<td>{_html_cell(c)}</td>" for c in row) + "</tr>" for row in block.rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def to_html(doc: Document) -> str:
    """The document as one self-contained HTML page (charts inline, no external resources)."""
    parts = [f"<h1>{html.escape(doc.title)}</h1>", *(_html_block(b) for b in doc.lead)]
    for section in doc.sections:
        level = min(max(section.level, 2), 4)
        parts.append(f"<h{level}>{html.escape(section.title)}</h{level}>")
        parts.extend(_html_block(b) for b in section.blocks)
    body = "\n".join(parts)
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(doc.title)}</title>\n<style>{_CSS}</style>\n</head>\n"
        f"<body>\n{body}\n</body>\n</html>\n"
    )
