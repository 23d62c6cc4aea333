"""The JSON Schema keywords whose meaning is JavaScript's, as promptfoo's Ajv gives it.

Ajv reads ``pattern`` and each ``patternProperties`` key as ``new RegExp(pattern, "u")``
(so ``additionalProperties``, which skips keys those patterns match, depends on it too), and
ajv-formats checks the ``regex`` format with ``new RegExp(text)``. ``PATTERN_KEYWORDS`` plugs
into a ``jsonschema`` validator class in place of the keywords' Python-regex versions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from jsonschema.exceptions import ValidationError

from .regex import JsRegex, JsRegexError, compile_js

__all__ = ["PATTERN_KEYWORDS", "compile_pattern", "is_js_regex"]


def compile_pattern(pattern: str) -> JsRegex:
    """A schema's ``pattern`` (or ``patternProperties`` key) as Ajv compiles it; JsRegexError if invalid."""
    return compile_js(pattern, "u")


def is_js_regex(text: str) -> bool:
    """The ``regex`` format: ajv-formats builds ``new RegExp(text)``, without flags."""
    try:
        compile_js(text)
    except JsRegexError:
        return False
    return True


def _pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Iterator[ValidationError]:
    if isinstance(instance, str) and not compile_pattern(pattern).test(instance):
        yield ValidationError(f"{instance!r} does not match /{pattern}/")


def _pattern_properties(validator: Any, patterns: dict[str, Any], instance: Any, schema: Any) -> Iterator[ValidationError]:
    if not isinstance(instance, dict):
        return
    for pattern, subschema in patterns.items():
        regex = compile_pattern(pattern)
        for key, value in instance.items():
            if regex.test(key):
                yield from validator.descend(value, subschema, path=key, schema_path=pattern)


def _additional_properties(validator: Any, additional: Any, instance: Any, schema: Any) -> Iterator[ValidationError]:
    if not isinstance(instance, dict):
        return
    patterns = [compile_pattern(pattern) for pattern in schema.get("patternProperties", {})]
    extras = [key for key in instance
              if key not in schema.get("properties", {}) and not any(regex.test(key) for regex in patterns)]
    if additional is False and extras:
        listed = ", ".join(repr(key) for key in extras)
        yield ValidationError(f"additional properties are not allowed ({listed} {'was' if len(extras) == 1 else 'were'} unexpected)")
    elif isinstance(additional, dict):
        for key in extras:
            yield from validator.descend(instance[key], additional, path=key)


# keyword -> jsonschema validator function reading the keyword's patterns as JavaScript
PATTERN_KEYWORDS: dict[str, Callable[[Any, Any, Any, Any], Iterator[ValidationError]]] = {
    "pattern": _pattern,
    "patternProperties": _pattern_properties,
    "additionalProperties": _additional_properties,
}
