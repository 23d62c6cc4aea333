"""User code in eval files: transforms, ``javascript`` and ``python`` assertions, file functions.

As in promptfoo, inline code is JavaScript (``transform: JSON.parse(output)``), run in the
embedded engine (``jscompat/engine.py``), except a ``python`` assertion's value, which is
Python. Inline code is a single expression, or a body with ``return`` (promptfoo's rule: a
transform of several lines is a body). ``file://path.ext[:function]`` loads a function from a
file of any language in ``FILE_LOADERS`` (``.py``, ``.js``, ``.cjs``, ``.mjs``), called as
``function(output, context)`` by transforms and assertions and with other arguments by other
hooks. Code is compiled when the file is collected, so a syntax error is a collection error.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
import textwrap
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any, Literal

from .errors import ConfigError, TransformError
from .jscompat import modules
from .jscompat.engine import JsError, engine_for

UserFunction = Callable[[Any, Mapping[str, Any]], Any]

_GLOBALS = {"json": json, "re": re}


@dataclass(frozen=True)
class UserCode:
    """A compiled piece of user code; calling it wraps failures in :class:`TransformError`."""

    source: str
    function: UserFunction
    what: str = "transform"
    must_return: bool = False  # a transform: promptfoo fails one that returns null or undefined

    def __call__(self, output: Any, context: Mapping[str, Any]) -> Any:
        try:
            result = self.function(output, context)
        except JsError as error:
            raise TransformError(f"{self.what} {self.source.strip()!r} raised {error}") from error
        except (Exception, SystemExit) as error:  # the user's code: even sys.exit() fails only this item
            raise TransformError(
                f"{self.what} {self.source.strip()!r} raised {type(error).__name__}: {error}"
            ) from error
        if result is None and self.must_return:
            raise TransformError(f"{self.what} {self.source.strip()!r} did not return a value")
        return result


def compile_code(source: str, base_dir: Path, *, default_function: str, what: str = "transform",
                 inline: Literal["javascript", "python"] = "javascript",
                 params: tuple[str, str] = ("output", "context")) -> UserCode:
    """Compile a transform (``source`` inline ``inline`` code over ``params``, or a file function);
    raise :class:`ConfigError` with the accepted forms when it cannot be."""
    transform = what.lower().endswith("transform") or what == "transformVars"
    try:
        if source.startswith("file://"):
            return UserCode(source, load_file_function(source, base_dir, default_function), what, transform)
        if inline == "python":
            return UserCode(source, _compile_expression(source), what, transform)
        body = source if "\n" in source else f"return {source}"
        return UserCode(source, javascript_function(params, body, what, source), what, transform)
    except ValueError as error:
        over = " and ".join(params)
        if inline == "python":
            hint = (f"a {what} is a Python expression over {over}, a body with return, "
                    f"or file://module.py:function (default function {default_function})")
        else:
            example = "JSON.parse(output)" if params[0] == "output" else "({...vars, n: Number(vars.n)})"
            hint = (f"a {what} is a JavaScript expression over {over} ({example}), a body with return, "
                    f"file://file.js[:function] or file://module.py:function (default function {default_function})")
        raise ConfigError(str(error), hint=hint) from None


def javascript_function(params: tuple[str, ...], body: str, what: str, source: str) -> Callable[..., Any]:
    """``new Function(...params, body)`` in the engine; a syntax error in ``source`` (the code as
    written) raises :class:`ValueError`."""
    try:
        return engine_for(f"this {what}").inline(params, body, what)
    except JsError as error:
        raise ValueError(f"invalid JavaScript ({error}): {source.strip()!r}") from None


def _compile_expression(source: str) -> UserFunction:
    try:
        code = compile(source.strip(), "<eval file>", "eval")
    except SyntaxError:
        code = None
    if code is not None:
        def evaluate(output: Any, context: Mapping[str, Any]) -> Any:
            # One namespace, not separate globals and locals: with separate locals,
            # generator expressions and comprehensions could not see output/context.
            return eval(code, {**_GLOBALS, "output": output, "context": context})

        return evaluate
    # Not a single expression: treat it as a function body that returns a value.
    body = "def __user_code(output, context):\n" + textwrap.indent(textwrap.dedent(source), "    ")
    namespace: dict[str, Any] = dict(_GLOBALS)
    try:
        exec(compile(body, "<eval file>", "exec"), namespace)
    except SyntaxError as error:
        raise ValueError(f"invalid Python ({error.msg}): {source.strip()!r}") from None
    return namespace["__user_code"]


def load_file_function(reference: str, base_dir: Path, default_function: str) -> Callable[..., Any]:
    """The one loader for ``file://path.ext[:function]`` references to user code.

    Every hook that names a function in a file (assertions, transforms, prompt functions,
    test generators, var files, filters) comes here, so a language is added in one place:
    ``FILE_LOADERS`` maps a file suffix to the function that loads from such a file.
    Raises :class:`ValueError` with a message fit for a :class:`ConfigError`.
    """
    target = reference[len("file://") :]
    path_text, _, function_name = target.rpartition(":") if _names_function(target) else (target, "", "")
    path = (base_dir / path_text).resolve()
    if not path.is_file():
        raise ValueError(f"file not found: {path_text} (resolved to {path})")
    loader = FILE_LOADERS.get(path.suffix.lower())
    if loader is None:
        raise ValueError(
            f"{path_text}: cannot load code from a {path.suffix or 'suffix-less'} file "
            f"(supported: {', '.join(sorted(FILE_LOADERS))})"
        )
    return loader(path, path_text, function_name or None, default_function)


def _names_function(target: str) -> bool:
    """``a/b.py:fn`` names a function; a Windows drive (``C:/x.py``) does not."""
    head, colon, tail = target.rpartition(":")
    return bool(colon) and bool(tail) and "/" not in tail and "\\" not in tail and "." in head


def _load_python_function(path: Path, path_text: str, function_name: str | None,
                          default_function: str) -> Callable[..., Any]:
    """The module's function; ``Class.method`` names a static or class method, as promptfoo's
    Python wrapper allows."""
    function_name = function_name or default_function
    function: Any = _import_file(path)
    for part in function_name.split("."):
        function = getattr(function, part, None)
    if not callable(function):
        raise ValueError(f"{path_text} has no function {function_name!r}")
    return function


def _load_javascript_function(path: Path, path_text: str, function_name: str | None,
                              default_function: str) -> Callable[..., Any]:
    """As promptfoo: the named export, else the module's function, else its default export
    (``default_function`` is a Python convention; JavaScript files do not use it)."""
    return modules.load_function(engine_for(path_text), path, path_text, function_name)


# A suffix -> (file, the path as written, the function named after ":" or None, the hook's default name).
FILE_LOADERS: dict[str, Callable[[Path, str, str | None, str], Callable[..., Any]]] = {
    ".py": _load_python_function,
    ".js": _load_javascript_function,
    ".cjs": _load_javascript_function,
    ".mjs": _load_javascript_function,
}


@cache
def _import_file(path: Path) -> ModuleType:
    name = f"pytest_replicate_user_{abs(hash(str(path)))}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ValueError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except (Exception, SystemExit) as error:  # sys.exit() at import must not end the session
        del sys.modules[name]
        raise ValueError(f"importing {path.name} raised {type(error).__name__}: {error}") from None
    return module
