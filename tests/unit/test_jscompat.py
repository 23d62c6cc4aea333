"""JavaScript semantics live in one place (pytest_replicate.jscompat), and say what ECMAScript says.

The expected strings are what Node 22 prints for ``String(x)``, ``JSON.stringify(x)`` and
``x.trim()``; rows marked "ours" are deliberate differences.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from pytest_replicate.jscompat import nunjucks
from pytest_replicate.jscompat.json_schema import compile_pattern, is_js_regex
from pytest_replicate.jscompat.regex import compile_js
from pytest_replicate.jscompat.values import (
    JS_WHITESPACE,
    JS_WHITESPACE_RUN,
    js_deep_equal,
    js_dump,
    js_number,
    js_string,
    js_trim,
    strict_json,
)

PACKAGE = Path(__file__).resolve().parents[2] / "pytest_replicate"

# ECMAScript's WhiteSpace (TAB, VT, FF, SP, NBSP, ZWNBSP, Unicode Zs) and LineTerminator (LF, CR, LS, PS).
ECMASCRIPT_WHITESPACE = {
    *range(0x09, 0x0E), 0x20, 0xA0, 0x1680, *range(0x2000, 0x200B), 0x2028, 0x2029, 0x202F, 0x205F, 0x3000, 0xFEFF,
}


def test_whitespace_is_ecmascripts() -> None:
    assert {ord(char) for char in JS_WHITESPACE} == ECMASCRIPT_WHITESPACE
    assert len(JS_WHITESPACE) == len(ECMASCRIPT_WHITESPACE)


def test_backslash_s_trim_and_split_agree_on_every_character() -> None:
    backslash_s = compile_js(r"^\s$")
    for code in [*range(0x3001), 0xFEFF, 0xFFFE]:
        char, is_space = chr(code), code in ECMASCRIPT_WHITESPACE
        assert backslash_s.test(char) is is_space, hex(code)
        assert (js_trim(f"{char}x{char}") == "x") is is_space, hex(code)
        assert bool(JS_WHITESPACE_RUN.fullmatch(char)) is is_space, hex(code)


def test_feff_and_python_only_spaces() -> None:
    assert js_trim("\ufeff x \u3000") == "x"
    assert js_trim("\x1cx\x85") == "\x1cx\x85"  # Python's str.strip() would remove both
    assert JS_WHITESPACE_RUN.split("a\u2028b\x1fc") == ["a", "b\x1fc"]


@pytest.mark.parametrize(("value", "text"), [
    (True, "true"),
    (False, "false"),
    (None, "null"),
    (1.0, "1"),
    (-0.0, "0"),
    (1e21, "1e+21"),
    (1e-7, "1e-7"),
    (123456789012345680000.0, "123456789012345680000"),
    (0.1 + 0.2, "0.30000000000000004"),
    (float("nan"), "NaN"),
    (float("-inf"), "-Infinity"),
    (2**70, "1180591620717411303424"),  # ours: a YAML integer stays exact
    ("x", "x"),
    ([1, [2, 3]], "1,2,3"),
    ([None, 1, None], ",1,"),
    ([], ""),
    ({}, "{}"),  # ours: JavaScript prints [object Object]
    ({"b": 1, "1": None}, '{"1":null,"b":1}'),  # ours, in JavaScript key order
])
def test_js_string(value: object, text: str) -> None:
    assert js_string(value) == text


def test_js_number_matches_js_string_for_numbers() -> None:
    for number in (0, 7, 2.5, 1e300, 5e-324, -1e-6, 1e-6 / 10):
        assert js_number(number) == js_string(number)


@pytest.mark.parametrize(("value", "indent", "text"), [
    ({"b": [1.0, None], "10": True, "2": "é"}, None, '{"2":"é","10":true,"b":[1,null]}'),
    ([float("inf")], None, "[null]"),
    ({"a": {}}, 2, '{\n  "a": {}\n}'),
    ([1], "\t", "[\n\t1\n]"),
])
def test_js_dump_is_json_stringify(value: object, indent: int | str | None, text: str) -> None:
    assert js_dump(value, indent) == text


def test_json_parse_rejects_what_javascript_rejects() -> None:
    assert strict_json('{"a": [1e400, -0.0]}') == {"a": [float("inf"), -0.0]}
    for text in ("NaN", "[Infinity]", "-Infinity"):
        with pytest.raises(ValueError):
            strict_json(text)


@pytest.mark.parametrize(("a", "b", "equal"), [
    (1, 1.0, True),
    (0, -0.0, False),
    (True, 1, False),
    (None, "null", False),
    ({"a": [1, 2]}, {"a": [1, 2.0]}, True),
    ({"a": 1}, {"a": 1, "b": None}, False),
    (2**1024, 2**1024, True),
])
def test_deep_equal_is_is_deep_strict_equal(a: object, b: object, equal: bool) -> None:
    assert js_deep_equal(a, b) is equal


def test_nunjucks_prints_null_as_nothing_but_concatenates_it_as_null() -> None:
    assert nunjucks.printed(None) == ""
    assert nunjucks.printed([None, True]) == ",true"
    assert nunjucks.concat((None, 1.0, "x")) == "null1x"
    assert nunjucks.join([{"a": 1.5}, {"a": None}], "-", "a") == "1.5-"
    assert bool(nunjucks.as_js({})) and bool(nunjucks.as_js([]))
    assert list(nunjucks.as_js({"b": 1, "0": 2})) == ["0", "b"]


def test_schema_patterns_are_unicode_javascript() -> None:
    assert compile_pattern("^.$").test("😀") and not compile_js("^.$").test("😀")  # u: code points
    assert is_js_regex(r"\k<x>(?<x>a)") and not is_js_regex(r"(?P<x>a)")


# -- each fact once ----------------------------------------------------------------------------

def _plugin_modules() -> list[tuple[str, str]]:
    """(path below the package, source) of every module but the simulator's, which stands apart."""
    modules = [(path.relative_to(PACKAGE).as_posix(), path.read_text(encoding="utf-8")) for path in PACKAGE.rglob("*.py")]
    return [(name, source) for name, source in modules if not name.startswith("simulator/")]


def _defines_whitespace(source: str) -> bool:
    """Whether ``source`` lists whitespace: U+3000 is in no other set we spell out."""
    return any(marker in source for marker in ("\\u3000", "\u3000", "0x3000"))


def test_only_jscompat_spells_out_javascript_whitespace() -> None:
    found = [name for name, source in _plugin_modules() if _defines_whitespace(source)]
    assert found == ["jscompat/values.py"]


def test_only_jscompat_prints_javascript_booleans() -> None:
    """``"true" if value else "false"`` is String(); it is written once, in jscompat.values."""
    pattern = re.compile(r"""["']true["'] if .* else ["']false["']""")
    found = [name for name, source in _plugin_modules() if pattern.search(source)]
    assert found == ["jscompat/values.py"]


def test_only_templating_looks_for_template_syntax() -> None:
    """``"{{" in text`` is has_template_syntax's job; a second copy forgets ``{#``."""
    found = sorted({name for name, source in _plugin_modules() for node in ast.walk(ast.parse(source))
                    if isinstance(node, ast.Compare) and isinstance(node.left, ast.Constant)
                    and node.left.value in ("{{", "{%", "{#")})
    assert found == ["templating.py"]
