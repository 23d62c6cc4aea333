"""JavaScript files as promptfoo loads them: CommonJS, or ES modules rewritten to CommonJS.

A ``.js``/``.cjs`` file is run as a CommonJS module (``module.exports = fn``,
``exports.name = fn``). An ES module (``.mjs``, or any file whose lines start with ``export``)
has its top-level ``export`` statements rewritten: ``export default X``,
``export [async] function f``, ``export const|let|var|class x`` and ``export { a, b as c }``.
``import`` cannot work (there is nothing to import from: no file or module access), so a
file with one is refused with that reason, as is ``require`` when it is called.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from .engine import JsError

if TYPE_CHECKING:
    from .engine import Engine, JsFunction

_IMPORT = re.compile(r"^\s*import\s*[\w{*'\"]", re.MULTILINE)
_EXPORT_LINE = re.compile(r"^\s*export\s", re.MULTILINE)
_EXPORT_DEFAULT = re.compile(r"^(\s*)export\s+default\s+", re.MULTILINE)
_EXPORT_DECLARATION = re.compile(r"^(\s*)export\s+((?:async\s+)?function\s*\*?\s*([A-Za-z_$][\w$]*)"
                                 r"|(?:const|let|var|class)\s+([A-Za-z_$][\w$]*))", re.MULTILINE)
_EXPORT_LIST = re.compile(r"^\s*export\s*\{([^}]*)\}\s*;?", re.MULTILINE)


def load_function(engine: Engine, path: Path, path_text: str, function_name: str | None) -> JsFunction:
    """The function ``path`` exports (``function_name``, else the module or its default export);
    problems raise :class:`ValueError` worded for a :class:`ConfigError`."""
    return _load(engine, path, path.stat().st_mtime_ns, path_text, function_name)


@lru_cache(maxsize=256)
def _load(engine: Engine, path: Path, mtime_ns: int, path_text: str, function_name: str | None) -> JsFunction:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise ValueError(f"cannot read {path_text}: {error}") from None
    source = commonjs(text, path_text)
    try:
        return engine.from_module(source, path, mtime_ns, path_text, function_name)
    except JsError as error:
        raise ValueError(f"loading {path_text} raised {error}") from None


def commonjs(source: str, path_text: str) -> str:
    """``source`` as a CommonJS module body: ES module exports rewritten, imports refused."""
    found = _IMPORT.search(source)
    if found:
        line = source.count("\n", 0, found.start()) + 1
        raise ValueError(f"{path_text}, line {line}: import is not available (JavaScript here runs without "
                         "file or module access); inline what you need, or write the function in Python")
    if not _EXPORT_LINE.search(source):
        return source
    names: list[tuple[str, str]] = []  # (exported name, local name)

    def declaration(match: re.Match[str]) -> str:
        name = match.group(3) or match.group(4)
        names.append((name, name))
        return match.group(1) + match.group(2)

    def listed(match: re.Match[str]) -> str:
        for item in match.group(1).split(","):
            local, _, exported = item.strip().partition(" as ")
            if local.strip():
                names.append(((exported or local).strip(), local.strip()))
        return ""

    source = _EXPORT_DEFAULT.sub(r"\1module.exports.default = ", source)
    source = _EXPORT_DECLARATION.sub(declaration, source)
    source = _EXPORT_LIST.sub(listed, source)
    exports = "".join(f"\nmodule.exports[{_quoted(exported)}] = {local};" for exported, local in names)
    return source + exports


def _quoted(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
