"""The layout holds: no import cycle anywhere, bot/ in one-way layers, pure packages stay pure.

Read from the code's own imports with `ast`: every `import` and `from ... import`, also those
inside functions and under `if TYPE_CHECKING:` (an import moved into a function to dodge a cycle
is still a cycle). docs/architecture.md draws the same picture.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "dialogues", "safety", "storage", "sandbox")

# bot/'s layers, bottom up: a module may import its own layer and the ones below, never above.
LAYERS = {"edge": 1, "core": 2, "features": 3, "routing": 4, "cli": 5}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            found[_module_name(path)] = path
    return found


MODULES = _modules()


def _imports(name: str, path: Path) -> Iterator[str]:
    """The project modules that `name` imports, anywhere in the file."""
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".")
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            # `from pkg import mod` imports the module pkg.mod; `from mod import name` imports mod.
            targets = [
                f"{module}.{alias.name}" if f"{module}.{alias.name}" in MODULES else module
                for alias in node.names
            ]
        else:
            continue
        for target in targets:
            if target.split(".")[0] in PACKAGES:
                yield target


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for name, path in MODULES.items():
        graph[name] = {t for t in _imports(name, path) if t in MODULES and t != name}
    return graph


GRAPH = _graph()


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_graph_is_read() -> None:
    # A reader that finds nothing would pass every test below.
    assert len(MODULES) > 60
    assert "bot.core.conversation" in GRAPH["bot.routing.handlers"]
    assert "safety.check" in GRAPH["safety"]


def test_no_import_cycle_anywhere() -> None:
    assert _cycles(GRAPH) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == [["a", "b", "c"]]


def _layer(module: str) -> tuple[int, str] | None:
    parts = module.split(".")
    if parts[0] != "bot" or len(parts) < 2 or parts[1] not in LAYERS:
        return None
    feature = parts[2] if parts[1] == "features" and len(parts) > 2 else ""
    return LAYERS[parts[1]], feature


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m.startswith("bot.")))
def test_bot_layers_run_one_way(module: str) -> None:
    mine = _layer(module)
    if mine is None:
        assert module == "bot", f"{module} is in no layer: put it in one of {sorted(LAYERS)}"
        return
    for target in GRAPH[module]:
        theirs = _layer(target)
        if theirs is None:
            continue
        assert theirs[0] <= mine[0], f"{module} (layer {mine[0]}) imports {target} above it"
        if mine[0] == theirs[0] == LAYERS["features"]:
            assert mine[1] == theirs[1], f"feature {module} imports another feature, {target}"


FORBIDDEN = {
    "dialogues": {"bot", "telegram", "aiosqlite", "storage", "safety", "sandbox"},
    "storage": {"bot", "telegram", "dialogues", "safety", "sandbox"},
    "sandbox": {"bot", "dialogues", "storage", "safety"},
    # Pure text analysis: no Telegram, no database, no clock, no network.
    "safety": {
        "bot",
        "telegram",
        "aiosqlite",
        "sqlite3",
        "storage",
        "dialogues",
        "sandbox",
        "datetime",
        "time",
        "socket",
        "http",
        "urllib",
        "aiohttp",
        "httpx",
        "requests",
        "asyncio",
    },
}


def _all_imports(path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_pure_packages_import_nothing_they_must_not(package: str) -> None:
    files = sorted((ROOT / package).rglob("*.py"))
    assert files
    for path in files:
        for name in _all_imports(path):
            top = name.split(".")[0]
            assert top not in FORBIDDEN[package], f"{path.relative_to(ROOT)} imports {name}"
