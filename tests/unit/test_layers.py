"""The import graph runs one way: pytest-facing modules at the top, the HTTP layer at the bottom.

Each module belongs to a layer; it may import its own layer and the ones below, never
one above, and no chain of imports leads back to where it started (within a layer too).
Imports inside functions and under ``TYPE_CHECKING`` count: moving an import out of sight
does not remove a cycle. The simulator stands apart: it imports nothing from the plugin.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "pytest_replicate"
# Bottom first. A module's layer is the first prefix (dotted, below the package) that matches it.
LAYERS: list[tuple[str, ...]] = [
    ("errors", "empty", "redaction", "text", "version", "atomic", "jscompat", "http.extensions", "http.limits", "http.auth", "http.breaker",
     "cassettes.record_modes"),
    ("cassettes", "http"),
    ("images", "templating", "transforms", "results.stats", "run.scheduler"),
    ("providers",),
    ("assertions",),
    ("suite",),
    ("results", "run.runner", "run.conversation"),
    ("run",),
    ("report", "api"),
    ("pytest.xdist", "pytest.hookspecs", "pytest.repeat_count", "pytest.signals", "pytest.frozen"),
    ("pytest.report_settings",),
    ("pytest.state", "pytest.discovery"),
    ("pytest.items", "pytest.replicate_session", "pytest.parse_cache"),
    ("pytest.fixtures", "pytest.reporting"),
    ("pytest", ""),  # "" is the package's __init__
]
# Stands apart: imports nothing from the plugin, so any module may start it (the fixtures do).
STANDALONE = ("simulator",)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _layer(module: str) -> int:
    best: tuple[int, int] | None = None  # (prefix length, layer)
    for index, names in enumerate(LAYERS):
        for name in names:
            matches = module == name or module.startswith(name + ".")
            if matches and (best is None or len(name) > best[0]):
                best = (len(name), index)
    assert best is not None, f"module {module!r} is in no layer; add it to LAYERS"
    return best[1]


def _imports(path: Path, module: str) -> list[str]:
    """Modules of the package that ``path`` imports, as dotted names below the package.

    ``from .pkg import name`` names the module ``pkg.name`` when there is one, else ``pkg``.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package_parts = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package_parts[: len(package_parts) - node.level + 1] if node.level > 1 else package_parts
            target = ".".join([*base, *(node.module.split(".") if node.module else [])])
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("pytest_replicate"):
            target = node.module.removeprefix("pytest_replicate").lstrip(".")
        else:
            continue
        for alias in node.names:
            submodule = f"{target}.{alias.name}".lstrip(".")
            found.append(submodule if submodule in MODULE_NAMES else target)
    return found


MODULES = sorted((path, _module_name(path)) for path in PACKAGE.rglob("*.py"))
MODULE_NAMES = {module for _, module in MODULES}


@pytest.mark.parametrize(("path", "module"), MODULES, ids=[module or "__init__" for _, module in MODULES])
def test_imports_point_down(path: Path, module: str) -> None:
    if module.startswith(STANDALONE):
        outside = [name for name in _imports(path, module) if not name.startswith(STANDALONE)]
        assert not outside, f"the simulator must stand alone, but {module} imports {outside}"
        return
    mine = _layer(module)
    upward = [name for name in _imports(path, module) if not name.startswith(STANDALONE) and _layer(name) > mine]
    assert not upward, f"{module} (layer {mine}) imports from higher layers: {upward}"


def test_no_import_cycles() -> None:
    graph = {module: set(_imports(path, module)) - {module} for path, module in MODULES}
    cycles = [component for component in _strongly_connected(graph) if len(component) > 1]
    assert not cycles, "import cycles: " + "; ".join(" <-> ".join(sorted(cycle)) for cycle in cycles)


def test_cycle_finder_finds_cycles() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert [sorted(c) for c in _strongly_connected(graph) if len(c) > 1] == [["a", "b", "c"]]


def _strongly_connected(graph: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's algorithm: the groups of modules that import each other, directly or not."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            components.append(component)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return components
