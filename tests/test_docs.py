"""The front page and docs/ hold together: the README stays a front page, every docs page is
linked from it, every link between pages resolves, and the module map names what the tree has."""

from __future__ import annotations

import re
from pathlib import Path

from flows.settings import PROJECT_ROOT

README = PROJECT_ROOT / "README.md"
DOCS = PROJECT_ROOT / "docs"
MAP_BEGIN, MAP_END = "<!-- module-map:begin -->", "<!-- module-map:end -->"
LINK = re.compile(r"\]\(([^)\s]+)\)")


def anchors(page: Path) -> set[str]:
    """GitHub-style anchors of a page's headings (outside code fences)."""
    text = re.sub(r"^```.*?^```", "", page.read_text(encoding="utf-8"), flags=re.S | re.M)
    heads = re.findall(r"^#{1,6} (.+)$", text, flags=re.M)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in heads}


def test_the_readme_is_a_front_page_that_links_every_docs_page() -> None:
    text = README.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 250
    for page in sorted(DOCS.glob("*.md")):
        assert f"](docs/{page.name})" in text, f"README does not link docs/{page.name}"


def test_every_relative_link_and_anchor_resolves() -> None:
    for page in [README, *sorted(DOCS.glob("*.md"))]:
        for target in LINK.findall(page.read_text(encoding="utf-8")):
            if target.startswith(("http://", "https://", "mailto:")):
                continue
            path, _, anchor = target.partition("#")
            resolved = (page.parent / path).resolve() if path else page
            assert resolved.exists(), f"{page.name}: broken link {target}"
            if anchor and resolved.suffix == ".md":
                assert anchor in anchors(resolved), f"{page.name}: no #{anchor} in {resolved.name}"


def module_map() -> str:
    """The module map block of docs/development.md."""
    text = (DOCS / "development.md").read_text(encoding="utf-8")
    return text.split(MAP_BEGIN)[1].split(MAP_END)[0]


def test_the_module_map_names_only_what_exists() -> None:
    block = module_map()
    for entry in re.findall(r"^((?:flows|models|warehouse|seeds|tests)/[\w/.-]*)", block, flags=re.M):
        assert (PROJECT_ROOT / entry).exists(), f"module map names {entry}, which is not in the tree"
    current = ""
    for line in block.splitlines():
        head = re.match(r"^((?:flows|models|warehouse)/(?:\w+/)*)", line)
        current = head.group(1) if head else current
        for name in re.findall(r"\b([a-z_]+\.py)\b", line):
            folder = PROJECT_ROOT / current if current else PROJECT_ROOT
            found = list(folder.rglob(name)) if current else []
            assert found or (PROJECT_ROOT / line.split()[0]).exists(), f"module map names {current}{name}"


def test_the_module_map_names_every_package_and_top_level_module() -> None:
    block = module_map()
    for pkg in ("flows", "models", "warehouse"):
        for child in sorted((PROJECT_ROOT / pkg).iterdir()):
            if child.name.startswith(("_", ".")) or child.name == "__pycache__":
                continue
            if child.is_dir() and pkg == "flows":
                assert f"{pkg}/{child.name}/" in block, f"module map lacks {pkg}/{child.name}/"
            elif child.suffix == ".py" and pkg == "flows":
                assert f"{pkg}/{child.name}" in block, f"module map lacks {pkg}/{child.name}"
            elif child.suffix == ".py" and pkg == "warehouse":
                assert child.name in block, f"module map lacks warehouse/{child.name}"
