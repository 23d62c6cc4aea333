"""The parser of ``assert`` entries, run at collection time.

The assertions package owns it so the config loader depends on assertions and not the
reverse; the loader hands in the raw mapping and a way to read ``file://`` values.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, Literal

from ..empty import EMPTY
from ..errors import ConfigError, YamlPath
from ..providers.purposes import GRADER_KINDS, grader_id_form
from ..providers.registry import check_provider_id
from ..templating import has_template_syntax, syntax_error
from ..transforms import UserCode, compile_code
from .registry import ASSERTION_TYPES, WHY_UNSUPPORTED, suggest_type
from .spec import AssertionSpec

FILE_PREFIX = "file://"
# Reads a ``file://`` assertion value (at a YAML path) into data; the config loader supplies it.
FileLoader = Callable[[YamlPath, str], Any]


def parse_assertion(raw: Mapping[str, Any], at: YamlPath, *, base_dir: Path, load_file: FileLoader) -> AssertionSpec:
    """Check and compile one (schema-valid) assertion; problems raise ConfigError at their path."""
    name = raw["type"]
    negate = name.startswith("not-")
    base = name[4:] if negate else name
    spec = AssertionSpec(
        type=base,
        negate=negate,
        threshold=raw.get("threshold"),
        weight=raw.get("weight", 1.0),
        metric=raw.get("metric"),
        provider=raw.get("provider"),
        rubric_prompt=raw.get("rubricPrompt"),
        config=raw.get("config") or EMPTY,
    )
    if "contextTransform" in raw:
        spec.context_transform = _compile(raw["contextTransform"], at + ("contextTransform",), base_dir,
                                          "get_transform", "contextTransform")
    if "transform" in raw:
        spec.transform = _compile(raw["transform"], at + ("transform",), base_dir, "get_transform", "assertion transform")
    if base == "assert-set":
        if negate:
            raise ConfigError("assert-set cannot be negated", path=at + ("type",),
                              hint="negate the assertions inside it instead")
        spec.children = [parse_assertion(item, at + ("assert", i), base_dir=base_dir, load_file=load_file)
                         for i, item in enumerate(raw["assert"])]
        for i, child in enumerate(spec.children):
            if child.type == "max-score":
                raise ConfigError("max-score compares whole test cases, so it cannot be inside an assert-set",
                                  path=at + ("assert", i, "type"), hint="move it to the test's own assert list")
        return spec
    if base == "max-score" and negate:
        raise ConfigError("max-score cannot be negated", path=at + ("type",),
                          hint="it passes for the best-scoring output; use max-score")
    kind = ASSERTION_TYPES.get(base)
    if kind is None:
        raise _unknown_type(name, base, at + ("type",))
    value = raw.get("value")
    if isinstance(value, str) and value.startswith(FILE_PREFIX) and base not in ("python", "javascript"):
        if _names_code(value):  # promptfoo: the script's result is the value, per case (value_code)
            spec.value_code = _compile(value, at + ("value",), base_dir, "get_assert", f"{name} value")
        else:
            value = load_file(at + ("value",), value)
    if spec.provider is not None:
        _check_grader(spec.provider, at, kind.grader)
    if kind.needs_value and value is None:
        raise ConfigError(f"{name} needs a value", path=at, hint=f"add 'value:' to this {name} assertion")
    if kind.threshold_unit and spec.threshold is None:
        raise ConfigError(f"{name} needs a threshold", path=at,
                          hint=f"add 'threshold:' (in {kind.threshold_unit}) to this {name} assertion")
    if kind.validate_value and value is not None and spec.value_code is None:
        problem = kind.validate_value(value)
        if problem:
            raise ConfigError(problem, path=at + ("value",))
    if kind.render_value:
        for text in _strings_in(value):
            problem = syntax_error(text)
            if problem:
                raise ConfigError(problem, path=at + ("value",))
    spec.value = value
    if base == "python":
        spec.code = _compile(str(value), at + ("value",), base_dir, "get_assert", "python assertion", inline="python")
    elif base == "javascript":
        _compile_javascript(str(value), at + ("value",), base_dir, spec)
    return spec


def _names_code(reference: str) -> bool:
    """``file://x.js``, ``file://x.py:fn``...: a file of code, as promptfoo tells (``.py``, JavaScript)."""
    path = reference[len(FILE_PREFIX):].split(":", 1)[0]
    return path.endswith(".py") or bool(re.search(r"\.(js|cjs|mjs)$", path))


def _compile_javascript(value: str, at: YamlPath, base_dir: Path, spec: AssertionSpec) -> None:
    """A file's function is loaded now; inline code is compiled per rendered value when graded,
    and here too when it has no vars in it, so a syntax error is a collection error."""
    if value.startswith(FILE_PREFIX):
        spec.code = _compile(value, at, base_dir, "get_assert", "javascript assertion")
    elif not has_template_syntax(value):
        from .checks.javascript import inline_check

        try:
            inline_check(value)
        except ValueError as error:
            raise ConfigError(str(error), path=at,
                              hint="a javascript assertion is an expression over output and context "
                                   "(output.length > 5), a body with return, or file://check.js[:function]") from None


def _unknown_type(name: str, base: str, at: YamlPath) -> ConfigError:
    supported = "supported types: " + ", ".join(sorted(ASSERTION_TYPES))
    if base in WHY_UNSUPPORTED:
        return ConfigError(f"promptfoo's assertion type {name!r} is not supported: {WHY_UNSUPPORTED[base]}", path=at)
    suggestion = suggest_type(name)
    return ConfigError(f"unknown assertion type {name!r}", path=at,
                       hint=f"did you mean {suggestion!r}?" if suggestion else supported)


def _check_grader(provider: Any, at: YamlPath, purpose: str | None) -> None:
    if isinstance(provider, dict) and "id" not in provider:  # one grader per purpose: {text: ..., embedding: ...}
        for inner_purpose, inner in provider.items():
            _check_one_grader(inner, at + ("provider", inner_purpose), inner_purpose)
        return
    _check_one_grader(provider, at + ("provider",), purpose)


def _check_one_grader(provider: Any, at: YamlPath, purpose: str | None) -> None:
    provider_id = provider if isinstance(provider, str) else provider["id"]
    path = at if isinstance(provider, str) else at + ("id",)
    try:
        check_provider_id(provider_id)
    except ConfigError as error:
        raise ConfigError(error.message, path=path, hint=error.hint) from None
    prefix = GRADER_KINDS.get(purpose) if purpose is not None else None
    if purpose is not None and prefix is not None and not provider_id.startswith(prefix):
        raise ConfigError(f"{provider_id!r} cannot grade this assertion", path=path,
                          hint=f"use a {grader_id_form(purpose)} id")


def _compile(source: str, at: YamlPath, base_dir: Path, default_function: str, what: str,
             inline: Literal["javascript", "python"] = "javascript") -> UserCode:
    try:
        return compile_code(source, base_dir, default_function=default_function, what=what, inline=inline)
    except ConfigError as error:
        raise ConfigError(error.message, path=at, hint=error.hint) from None


def _strings_in(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from _strings_in(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings_in(item)
