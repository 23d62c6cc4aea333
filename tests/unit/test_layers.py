"""The import graph runs one way: pytest-facing modules at the top, the HTTP layer at the bottom.

Each module belongs to a layer; it may import its own layer and the ones below, never
one above. The simulator stands apart: it imports nothing from the plugin.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "pytest_replicate"
# Bottom first. A module's layer is the first prefix (dotted, below the package) that matches it.
LAYERS: list[tuple[str, ...]] = [
    ("errors", "redaction", "text", "http.extensions", "http.record_modes", "http"),
    ("http.cassettes", "http.client"),
    ("images", "templating", "transforms", "scheduler"),
    ("providers",),
    ("assertions",),
    ("config",),
    ("results", "runner"),
    ("report", "settings", "siblings", "session", "api"),
    ("collect",),
    ("fixtures",),
    ("plugin", ""),  # "" is the package's __init__
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
    """Modules of the package that ``path`` imports, as dotted names below the package."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package_parts = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package_parts[: len(package_parts) - node.level + 1] if node.level > 1 else package_parts
            target = ".".join([*base, *(node.module.split(".") if node.module else [])])
            found.append(target)
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("pytest_replicate"):
            found.append(node.module.removeprefix("pytest_replicate").lstrip("."))
    return found


MODULES = sorted((path, _module_name(path)) for path in PACKAGE.rglob("*.py"))


@pytest.mark.parametrize(("path", "module"), MODULES, ids=[module or "__init__" for _, module in MODULES])
def test_imports_point_down(path: Path, module: str) -> None:
    if module.startswith(STANDALONE):
        outside = [name for name in _imports(path, module) if not name.startswith(STANDALONE)]
        assert not outside, f"the simulator must stand alone, but {module} imports {outside}"
        return
    mine = _layer(module)
    upward = [name for name in _imports(path, module) if not name.startswith(STANDALONE) and _layer(name) > mine]
    assert not upward, f"{module} (layer {mine}) imports from higher layers: {upward}"
