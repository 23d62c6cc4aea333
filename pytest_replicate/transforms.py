"""User Python code in eval files: ``transform`` expressions and ``python`` assertions.

promptfoo runs JavaScript here; we run Python, in the same two shapes:
an expression over ``output`` and ``context`` (or a body with ``return``), or
``file://module.py:function`` called as ``function(output, context)``.
Code is compiled when the file is collected, so a syntax error is a collection error.
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
from typing import Any

from .errors import ConfigError, TransformError

UserFunction = Callable[[Any, Mapping[str, Any]], Any]

_GLOBALS = {"json": json, "re": re}


@dataclass(frozen=True)
class UserCode:
    """A compiled piece of user code; calling it wraps failures in :class:`TransformError`."""

    source: str
    function: UserFunction
    what: str = "transform"

    def __call__(self, output: Any, context: Mapping[str, Any]) -> Any:
        try:
            return self.function(output, context)
        except (Exception, SystemExit) as error:  # the user's code: even sys.exit() fails only this item
            raise TransformError(
                f"{self.what} {self.source.strip()!r} raised {type(error).__name__}: {error}"
            ) from error


def compile_code(source: str, base_dir: Path, *, default_function: str, what: str = "transform") -> UserCode:
    """Compile ``source``; raise :class:`ConfigError` with the accepted forms when it cannot be."""
    try:
        if source.startswith("file://"):
            return UserCode(source, load_file_function(source, base_dir, default_function), what)
        return UserCode(source, _compile_expression(source), what)
    except ValueError as error:
        raise ConfigError(
            str(error),
            hint=f"a {what} is a Python expression over output and context, a body with return, "
            f"or file://module.py:function (default function {default_function})",
        ) from None


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
    return loader(path, path_text, function_name or default_function)


def _names_function(target: str) -> bool:
    """``a/b.py:fn`` names a function; a Windows drive (``C:/x.py``) does not."""
    head, colon, tail = target.rpartition(":")
    return bool(colon) and bool(tail) and "/" not in tail and "\\" not in tail and "." in head


def _load_python_function(path: Path, path_text: str, function_name: str) -> Callable[..., Any]:
    module = _import_file(path)
    function = getattr(module, function_name, None)
    if not callable(function):
        raise ValueError(f"{path_text} has no function {function_name!r}")
    return function


FILE_LOADERS: dict[str, Callable[[Path, str, str], Callable[..., Any]]] = {
    ".py": _load_python_function,
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
