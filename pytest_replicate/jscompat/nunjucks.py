"""How values print and behave in Nunjucks templates, the rules without the template engine.

promptfoo renders prompts with Nunjucks; ``templating`` runs them with Jinja2 and calls
these functions wherever a value prints, joins or is iterated, so a prompt reads as it
would in promptfoo.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from .values import js_items, js_order, js_string

__all__ = ["as_js", "concat", "join", "load", "nl2br", "pairs", "printed"]


def printed(value: Any) -> str:
    """How ``{{ value }}`` prints: as ``String(value)``, but null prints as nothing."""
    return "" if value is None else js_string(value)


def concat(parts: tuple[Any, ...]) -> str:
    """``a ~ b``: Nunjucks compiles it to ``a + "" + b``, so null reads "null" there."""
    return "".join(js_string(part) for part in parts)


def join(value: Any, separator: str = "", attribute: Any = None) -> str:
    """The ``join`` filter: items print as in ``{{ }}``; ``attribute`` picks a field of each."""
    items = list(value)
    if attribute is not None:
        items = [item.get(attribute) if isinstance(item, Mapping) else getattr(item, str(attribute), None)
                 for item in items]
    return separator.join(printed(item) for item in items)


def nl2br(value: Any) -> str:
    """Nunjucks' ``nl2br`` (Jinja2 has no such filter)."""
    return re.sub(r"\r\n|\n", "<br />\n", printed(value))


def load(text: Any) -> Any:
    """The ``load`` filter promptfoo adds to Nunjucks: parse JSON."""
    return as_js(json.loads(str(text)))


def pairs(value: Any) -> Any:
    """The iterable of ``{% for k, v in value %}``: a mapping's items, anything else as is."""
    if isinstance(value, Mapping):
        return js_items(value)
    return value


class _JsObject(dict):
    """A mapping that is true even when empty, as a JavaScript object is."""

    def __bool__(self) -> bool:
        return True


class _JsArray(list):
    """A list that is true even when empty, as a JavaScript array is."""

    def __bool__(self) -> bool:
        return True


def as_js(value: Any) -> Any:
    """``value`` with its mappings in JavaScript key order and true even when empty."""
    if isinstance(value, Mapping):
        return _JsObject((key, as_js(value[key])) for key in js_order(value))
    if isinstance(value, (list, tuple)):
        return _JsArray(as_js(item) for item in value)
    return value
