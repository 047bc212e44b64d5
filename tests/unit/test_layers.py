"""The package's parts import each other in one direction only: no cycles between its
first-level modules and folders (``oaken.cli``, ``oaken.analytics``, …), counting the
imports inside functions too, and nothing in it imports the tests or benchmarks."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

SOURCE = Path(__file__).resolve().parents[2] / "src" / "oaken"


def part_of(module: str) -> str | None:
    """``oaken.analytics.runner`` → ``analytics``; ``oaken`` itself and others → None."""
    names = module.split(".")
    return names[1] if names[0] == "oaken" and len(names) > 1 else None


def imports(path: Path) -> set[str]:
    package = ".".join(("oaken", *path.relative_to(SOURCE).with_suffix("").parts[:-1]))
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def part_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = defaultdict(set)
    for path in SOURCE.rglob("*.py"):
        here = path.relative_to(SOURCE).parts[0].removesuffix(".py")
        for module in imports(path):
            there = part_of(module)
            if there and there != here and (
                    (SOURCE / there).is_dir() or (SOURCE / f"{there}.py").exists()):
                graph[here].add(there)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one part (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for successor in graph.get(node, ()):
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(groups)


def test_the_parts_of_the_package_import_each_other_without_cycles() -> None:
    assert cycles(part_graph()) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = {"cli": {"demo"}, "demo": {"cli", "ops"}, "ops": set(), "a": {"b"}, "b": {"c"},
             "c": {"a"}}
    assert cycles(graph) == [["a", "b", "c"], ["cli", "demo"]]


def test_the_package_imports_neither_tests_nor_benchmarks() -> None:
    leaks = {str(path.relative_to(SOURCE)): sorted(
        module for module in imports(path) if module.split(".")[0] in ("tests", "bench"))
        for path in SOURCE.rglob("*.py")}
    assert {path: found for path, found in leaks.items() if found} == {}
