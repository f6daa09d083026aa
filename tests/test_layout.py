"""The architecture holds: imports point down, no cycles, no module over 400 lines."""

from __future__ import annotations

import ast
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("flows", "models", "warehouse")
MAX_LINES = 400


def module_name(path: Path) -> str:
    """Dotted module name of a file under the project root."""
    parts = list(path.relative_to(PROJECT_ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    """Every module of the three packages."""
    return {module_name(p): p for pkg in PACKAGES for p in sorted((PROJECT_ROOT / pkg).rglob("*.py"))}


def imports_of(path: Path, known: set[str]) -> set[str]:
    """Project modules a file imports anywhere (top level, in functions, under TYPE_CHECKING)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        else:
            continue
        found.update(n for n in names if n in known)
    return found


def graph() -> dict[str, set[str]]:
    """Import graph of the project's modules (a package's __init__ is not an edge target)."""
    mods = modules()
    known = set(mods)
    return {name: imports_of(path, known) - {name} for name, path in mods.items()}


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One import cycle, if there is any (depth-first search)."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_no_import_cycles() -> None:
    assert find_cycle(graph()) is None


def test_cycle_finder_finds_a_cycle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_models_and_warehouse_never_import_flows() -> None:
    upward = {
        (name, target)
        for name, targets in graph().items()
        for target in targets
        if name.split(".")[0] in ("models", "warehouse") and target.split(".")[0] == "flows"
    }
    assert upward == set()


def test_warehouse_never_imports_models() -> None:
    edges = graph()
    assert not {
        (n, t) for n, ts in edges.items() for t in ts if n.startswith("warehouse") and t.startswith("models")
    }


def test_no_module_over_400_lines() -> None:
    long = {
        name: n for name, path in modules().items() if (n := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert long == {}


def test_module_names_are_not_repeated_across_packages() -> None:
    leaves: dict[str, list[str]] = {}
    for name in modules():
        leaf = name.rsplit(".", 1)[-1]
        if leaf != "__init__" and "." in name:
            leaves.setdefault(leaf, []).append(name)
    assert {leaf: names for leaf, names in leaves.items() if len(names) > 1} == {}


FLOWS_PACKAGES = {"ingest", "score", "report", "alerts", "web", "cli", "orchestration", "tools"}
FLOWS_MODULES = {"__init__.py", "pipeline.py", "settings.py"}
SQL_CALLS = {"execute", "executemany", "sql"}
USER_QUERY_FILE = PROJECT_ROOT / "flows" / "cli" / "sql.py"  # the `sql` command runs the user's query


def test_flows_is_grouped_by_job() -> None:
    top = {p.name for p in (PROJECT_ROOT / "flows").iterdir() if p.name != "__pycache__"}
    packages = {name for name in top if (PROJECT_ROOT / "flows" / name).is_dir()}
    assert packages <= FLOWS_PACKAGES, f"flows/ has a package outside the jobs: {packages - FLOWS_PACKAGES}"
    assert top - packages == FLOWS_MODULES, f"flows/ top level should hold only {sorted(FLOWS_MODULES)}"


def test_no_sql_is_executed_outside_the_warehouse() -> None:
    offenders = []
    for pkg in ("flows", "models"):
        for path in sorted((PROJECT_ROOT / pkg).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                called = isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                if called and node.func.attr in SQL_CALLS and path != USER_QUERY_FILE:  # type: ignore[union-attr]
                    offenders.append(f"{path.relative_to(PROJECT_ROOT)}:{node.lineno}")
    assert offenders == [], f"SQL run outside warehouse/ (use warehouse.query): {offenders}"


def test_every_write_operation_is_a_typed_frozen_dataclass() -> None:
    import dataclasses

    from warehouse.ops import WriteOp
    from warehouse.sink import OPS

    assert len(OPS) >= 16
    for name, cls in OPS.items():
        assert issubclass(cls, WriteOp) and cls.op_name == name and cls.apply is not WriteOp.apply, name
        assert dataclasses.is_dataclass(cls) and cls.__dataclass_params__.frozen, name  # type: ignore[attr-defined]
