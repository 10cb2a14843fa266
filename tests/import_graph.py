"""The mlplab import graph read from the source: every `import` statement, at module level or
inside a function (lazy imports count: they run too), resolved to module names."""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

from tests.conftest import REPO

SRC = REPO / "src"
PACKAGE = SRC / "mlplab"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def modules() -> dict[str, Path]:
    """Every module of the package by dotted name."""
    return {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _imported(path: Path) -> set[str]:
    """The mlplab modules `path` imports (`from mlplab.x import y` counts y if it is a module)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
        else:
            continue
        found |= {name for name in names if name in modules()}
    return found


@cache
def edges() -> dict[str, frozenset[str]]:
    """module -> the mlplab modules it imports (a package's __init__ is not implied)."""
    return {name: frozenset(_imported(path) - {name}) for name, path in modules().items()}


def closure(path: Path, extra: set[str] = frozenset()) -> set[str]:
    """The mlplab modules a file (an entry script or a module) can import, transitively, from
    its own imports and `extra` modules (e.g. config `_target_`s), packages' __init__ included."""
    seen: set[str] = set()
    todo = [*_imported(path), *extra]
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            parent = name.rpartition(".")[0]
            todo += [*edges()[name], *([parent] if parent else [])]
    return seen


def config_targets() -> set[str]:
    """Modules of the `_target_: mlplab....` classes and functions any config file names."""
    found = set()
    for path in (REPO / "configs").rglob("*.yaml"):
        for line in path.read_text().splitlines():
            key, _, value = line.strip().partition(":")
            if key == "_target_" and value.strip().startswith("mlplab."):
                found.add(value.strip().rpartition(".")[0])
    return found


def cycles() -> list[list[str]]:
    """Every import cycle, each as the modules along it (empty when the graph is acyclic)."""
    found: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(name: str, path: list[str]) -> None:
        state[name] = 1
        for nxt in sorted(edges()[name]):
            if state.get(nxt) == 1:
                found.append([*path[path.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[name] = 2

    for name in sorted(modules()):
        if name not in state:
            visit(name, [name])
    return found
