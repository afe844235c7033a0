"""The first-party import graph has no circles, and the bottom layers stay at the bottom.

Every import counts: module level, inside functions (a lazy import only hides a circle) and
under ``TYPE_CHECKING`` (a type-only circle is still two modules that cannot be read alone).
"""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "adapters", "knowledge")


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def first_party_modules(root: Path) -> dict[str, Path]:
    return {
        module_name(path, root): path
        for package in PACKAGES if (root / package).is_dir()
        for path in (root / package).rglob("*.py") if "migrations" not in path.parts
    }


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The first-party module ``name`` refers to (a package's attribute resolves to the package)."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def _targets(node: ast.AST, *, package: str, modules: dict[str, Path]) -> list[str]:
    """Dotted names an import statement loads: ``from a import b`` is ``a.b`` when that is a
    module, else ``a`` (b is a name defined in a)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom):
        base = node.module or ""
        if node.level:
            anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
            base = ".".join(anchor + ([base] if base else []))
        return [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names]
    return []


def import_graph(root: Path = REPO) -> dict[str, set[str]]:
    modules = first_party_modules(root)
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        edges = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            for target in _targets(node, package=package, modules=modules):
                if (found := _resolve(target, modules)) and found != name:
                    edges.add(found)
        graph[name] = edges
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, edges = work[-1]
            for nxt in edges:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph.get(nxt, ())))))
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    group = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.append(member)
                        if member == node:
                            break
                    if len(group) > 1:
                        found.append(sorted(group))
    return found


def test_no_import_circles():
    assert circles(import_graph()) == []


def test_types_import_nothing_of_ours_and_rows_import_only_types():
    graph = import_graph()
    assert graph["bot.types"] == set()
    assert graph["bot.store.models"] <= {"bot.types"}


def test_only_composition_roots_import_the_wiring():
    importers = sorted(name for name, edges in import_graph().items() if "bot.app" in edges and not name.startswith("adapters"))
    assert importers == ["bot.cli", "bot.evaluation", "bot.ops.cli", "bot.ops.loop", "bot.server"]


def test_the_check_finds_a_planted_circle(tmp_path):
    (tmp_path / "bot").mkdir()
    (tmp_path / "bot" / "__init__.py").write_text("")
    (tmp_path / "bot" / "a.py").write_text("def f():\n    from bot.b import g\n")
    (tmp_path / "bot" / "b.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from bot import a\n")
    (tmp_path / "bot" / "c.py").write_text("from . import a\n")
    graph = import_graph(tmp_path)
    assert graph["bot.c"] == {"bot.a"} and graph["bot.b"] == {"bot.a"}
    assert circles(graph) == [["bot.a", "bot.b"]]
