"""JavaScript's view of values: whitespace, ``String()``, ``JSON.stringify``, ``JSON.parse``.

promptfoo compares, splits and prints values with these rules, so a Python value that came
from YAML must print as JavaScript prints it: ``true`` not ``True``, ``1`` for ``1.0``,
``1e+21``, object keys in JavaScript property order.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import jinja2

__all__ = ["JS_WHITESPACE", "JS_WHITESPACE_RUN", "STRICT_JSON_DECODER", "is_js_number", "js_deep_equal", "js_dump",
           "js_items", "js_number", "js_order", "js_string", "js_trim", "strict_json"]

# ECMAScript's WhiteSpace and LineTerminator code points: what \s matches and what
# String.prototype.trim removes. Python's \s differs: it also matches U+001C..U+001F and
# U+0085, and misses U+FEFF.
JS_WHITESPACE = (
    "\t\n\x0b\x0c\r \xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + "\u2028\u2029\u202f\u205f\u3000\ufeff"
)
# /\s+/: what JavaScript's split(/\s+/) splits on.
JS_WHITESPACE_RUN = re.compile(f"[{re.escape(JS_WHITESPACE)}]+")


def js_trim(text: str) -> str:
    """``String.prototype.trim``: strips JavaScript whitespace only."""
    return text.strip(JS_WHITESPACE)


def js_number(value: int | float) -> str:
    """``String(value)`` in JavaScript (integers stay exact: a YAML int is not a double here)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "0"  # JavaScript prints -0 as 0 too
    sign = "-" if value < 0 else ""
    # repr() gives the shortest digits that round-trip, as JavaScript's Number::toString does.
    exact = Decimal(repr(abs(value))).normalize()
    _, digit_tuple, exponent = exact.as_tuple()
    assert isinstance(exponent, int)
    digits = "".join(map(str, digit_tuple))
    k = len(digits)
    n = exponent + k  # the decimal point sits after the n-th digit
    if k <= n <= 21:
        text = digits + "0" * (n - k)
    elif 0 < n <= 21:
        text = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        text = "0." + "0" * -n + digits
    else:
        e = n - 1
        mantissa = digits if k == 1 else digits[0] + "." + digits[1:]
        text = f"{mantissa}e{'+' if e >= 0 else '-'}{abs(e)}"
    return sign + text


def js_string(value: Any) -> str:
    """``String(value)``: ``true``, ``null``, ``1`` for 1.0, arrays joined with commas.

    One deliberate difference: a mapping prints as compact JSON (``JSON.stringify``), not
    as ``[object Object]``, which no prompt or assertion reason wants.
    """
    if isinstance(value, str):
        return value
    if value is None:
        return "null"
    if isinstance(value, (bool, int, float)):
        return js_number(value)
    if isinstance(value, Mapping):
        return js_dump(value)
    if isinstance(value, (list, tuple)):  # Array.prototype.join: null items print as nothing
        return ",".join("" if item is None else js_string(item) for item in value)
    return str(value)


def _is_array_index(key: str) -> bool:
    return key.isascii() and key.isdigit() and (key == "0" or not key.startswith("0")) and int(key) < 2**32 - 1


def _js_key(key: Any) -> str:
    return "null" if key is None else js_string(key)


def js_order(mapping: Mapping[Any, Any]) -> list[Any]:
    """A mapping's keys in JavaScript property order: array-index keys first, ascending."""
    keys = [(_js_key(key), key) for key in mapping]
    indexed = sorted((pair for pair in keys if _is_array_index(pair[0])), key=lambda pair: int(pair[0]))
    return [key for _, key in indexed + [pair for pair in keys if not _is_array_index(pair[0])]]


def js_items(mapping: Mapping[Any, Any]) -> list[tuple[str, Any]]:
    """A mapping's items as JavaScript sees them: string keys, in JavaScript property order."""
    return [(_js_key(key), mapping[key]) for key in js_order(mapping)]


def js_dump(value: Any, indent: int | str | None = None) -> str:
    """``JSON.stringify(value, null, indent)``."""
    if isinstance(indent, bool):
        indent = None
    if isinstance(indent, (int, float)):
        indent = " " * max(0, min(10, int(indent)))
    elif isinstance(indent, str):
        indent = indent[:10]
    return _stringify(value, indent or "", "")


def _stringify(value: Any, indent: str, current: str) -> str:
    # A template's undefined value (Jinja2's Undefined, JavaScript's undefined) dumps as null.
    if value is None or isinstance(value, jinja2.Undefined):
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and not math.isfinite(value):
        return "null"
    if isinstance(value, (int, float)):
        return js_number(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    inner = current + indent
    if isinstance(value, Mapping):
        parts = [f"{json.dumps(key, ensure_ascii=False)}:{' ' if indent else ''}{_stringify(item, indent, inner)}"
                 for key, item in js_items(value)]
        return _wrap("{", parts, "}", indent, current)
    if isinstance(value, (list, tuple)):
        return _wrap("[", [_stringify(item, indent, inner) for item in value], "]", indent, current)
    return json.dumps(str(value), ensure_ascii=False)  # dates and other YAML scalars


def _wrap(opening: str, parts: list[str], closing: str, indent: str, current: str) -> str:
    if not parts:
        return opening + closing
    if not indent:
        return opening + ",".join(parts) + closing
    inner = current + indent
    return opening + "\n" + inner + (",\n" + inner).join(parts) + "\n" + current + closing


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def strict_json(text: str) -> Any:
    """``JSON.parse``: like ``json.loads`` but without NaN and Infinity; ValueError, not
    RecursionError, for JSON nested too deeply for Python to read."""
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise ValueError("nested too deeply to read") from None


# JSON.parse's grammar for finding JSON inside text (its raw_decode).
STRICT_JSON_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


def is_js_number(value: Any) -> bool:
    """``typeof value === "number"`` for a value from YAML or JSON: an int or a float, not a bool."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def js_deep_equal(a: Any, b: Any) -> bool:
    """``util.isDeepStrictEqual`` for JSON data: no ``True == 1``, numbers compared as doubles."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if is_js_number(a) and is_js_number(b):
        try:
            x, y = float(a), float(b)
        except OverflowError:
            return a == b
        return x == y and (x != 0 or math.copysign(1, x) == math.copysign(1, y))
    if isinstance(a, str) or isinstance(b, str) or a is None or b is None:
        return type(a) is type(b) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(js_deep_equal(a[key], b[key]) for key in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(js_deep_equal(x, y) for x, y in zip(a, b, strict=True))
    return False
