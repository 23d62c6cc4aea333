"""Templates render values as Nunjucks does (pytest_replicate.templating).

Each expected string is what Nunjucks 3.2.4 (the version promptfoo 0.123.1 ships) printed
for the same template and vars, checked with ``nunjucks.configure({autoescape: false})``
and ``renderString`` on Node 22, and through ``promptfoo eval`` with the echo provider.
Rows marked "ours" are deliberate differences, listed in docs/migration.md.
"""

from __future__ import annotations

from typing import Any

import pytest

from pytest_replicate.errors import TemplateError
from pytest_replicate.jscompat.values import js_dump, js_number
from pytest_replicate.templating import render, syntax_error

VARS = {
    "obj": {"b": 1, "2": "x", "1": "y", "items": [1, 2]},
    "empty": {},
    "no_items": [],
    "nothing": None,
    "pairs": [[1, 2], [3, 4]],
    "s": "abc",
    "one": 1.0,
    "yes": True,
    "no": False,
    "big": 1e21,
    "small": 1e-7,
    "neg": -1.5,
    "mixed": [1, [2, 3], None, True],
    "nested": {"x": {"y": "é<"}, "z": None},
    "quote": 'q"u',
}

NUNJUCKS = [
    ("{{ yes }}|{{ no }}|{{ nothing }}|{{ one }}", "true|false||1"),
    ("{{ big }}|{{ small }}|{{ neg }}|{{ 2.5 }}", "1e+21|1e-7|-1.5|2.5"),
    ("{{ 10 / 4 }}|{{ 3 / 1 }}|{{ 0.1 + 0.2 }}|{{ 7 // 2 }}", "2.5|3|0.30000000000000004|3"),
    ("{{ mixed }}", "1,2,3,,true"),
    ("{{ mixed | join('+') }}", "1+2,3++true"),
    ("{{ obj | dump }}", '{"1":"y","2":"x","b":1,"items":[1,2]}'),
    ("{{ nested | dump }}|{{ quote | dump }}|{{ nothing | dump }}", '{"x":{"y":"é<"},"z":null}|"q\\"u"|null'),
    ("{{ mixed | dump }}", "[1,[2,3],null,true]"),
    ("{{ obj | dump(2) }}", '{\n  "1": "y",\n  "2": "x",\n  "b": 1,\n  "items": [\n    1,\n    2\n  ]\n}'),
    ("{{ empty | dump }}{{ no_items | dump(2) }}", "{}[]"),
    ("{% for k, v in obj %}{{ k }}={{ v }};{% endfor %}", "1=y;2=x;b=1;items=1,2;"),
    ("{% for a, b in pairs %}{{ a }}-{{ b }};{% endfor %}", "1-2;3-4;"),
    ("{% for k, v in empty %}X{% else %}none{% endfor %}", "none"),
    ("{% if empty %}T{% else %}F{% endif %}{% if no_items %}T{% else %}F{% endif %}"
     "{% if nothing %}T{% else %}F{% endif %}{% if s %}T{% endif %}", "TTFT"),
    ("{{ 'x' if empty else 'y' }}|{{ no_items or 'y' }}", "x|"),
    ("{{ obj.items }}|{{ obj['1'] }}", "1,2|y"),
    ("{{ yes | string }}|{{ nothing | default('d') }}", "true|"),
    ("{{ empty | length }}{{ obj | length }}", "04"),
    ("{{ '{\"a\": 1.0}' | load | dump }}", '{"a":1}'),
    ("{{ one ~ 'x' }}|{{ yes ~ nothing ~ pairs[0] }}|{{ 'a\nb' | nl2br }}", "1x|truenull1,2|a<br />\nb"),
]


@pytest.mark.parametrize(("template", "expected"), NUNJUCKS)
def test_renders_as_nunjucks(template: str, expected: str) -> None:
    assert render(template, VARS) == expected


def test_loop_filter_and_whitespace_control_with_pairs() -> None:
    template = "{%- for k, v in obj if k != 'b' -%}{{ k }};{%- endfor %}"
    assert render(template, VARS) == "1;2;items;"


def test_deliberate_differences() -> None:
    # ours: a mapping prints as JSON (Nunjucks: "[object Object]")
    assert render("{{ nested }}", VARS) == '{"x":{"y":"é<"},"z":null}'
    # ours: one loop variable iterates a mapping's keys (Nunjucks iterates nothing)
    assert render("{% for k in obj %}{{ k }};{% endfor %}", VARS) == "1;2;b;items;"
    # ours: undefined variables and mixing text with numbers are errors
    with pytest.raises(TemplateError, match="undefined variable 'missing'"):
        render("{{ missing }}", VARS)
    with pytest.raises(TemplateError, match="could not be rendered"):
        render("{{ s + 1 }}", VARS)


@pytest.mark.parametrize(("number", "text"), [
    (1.0, "1"), (2.5, "2.5"), (1e21, "1e+21"), (1e20, "100000000000000000000"), (1e-7, "1e-7"),
    (1e-6, "0.000001"), (-0.0, "0"), (5e-324, "5e-324"), (1234.5678, "1234.5678"),
    (float("nan"), "NaN"), (float("-inf"), "-Infinity"), (12345678901234567890, "12345678901234567890"),
])
def test_numbers_print_as_javascript_does(number: float, text: str) -> None:
    assert js_number(number) == text


def test_dump_indent_and_non_finite_numbers() -> None:
    assert js_dump({"a": [1.5, float("inf")]}, "\t") == '{\n\t"a": [\n\t\t1.5,\n\t\tnull\n\t]\n}'
    assert js_dump([], 2) == "[]"


@pytest.mark.parametrize(("template", "variables", "message"), [
    ("{{ x.y.z }}", {"x": {"y": "abc"}}, "prompt reads 'z' of the text 'abc', which has no such key or attribute"),
    ("{{ x.w }}", {"x": {"y": 1, "z": 2}}, "prompt reads 'w' of a mapping with keys y, z, which has no such key"),
    ("{{ x.w }}", {"x": {}}, "prompt reads 'w' of an empty mapping, "),
    ("{{ x[2] }}", {"x": [1, 2]}, "prompt reads item 2 of a list of 2 items, "),
    ("{{ x.y }}", {"x": None}, "prompt reads 'y' of null, "),
])
def test_a_missing_key_names_the_key_and_what_it_was_read_from(template: str, variables: dict[str, Any],
                                                              message: str) -> None:
    with pytest.raises(TemplateError) as error:
        render(template, variables, what="prompt")
    assert str(error.value).startswith(message)
    assert "(vars of this case: x); check the names in the template against the case's vars" in str(error.value)


@pytest.mark.parametrize(("template", "tag"), [
    ('hi\n{% include "header.txt" %}', "include"), ('{% extends "base.txt" %}', "extends"),
    ('{% import "macros.txt" as m %}', "import"), ('{% from "macros.txt" import m %}', "from ... import"),
])
def test_tags_that_read_other_templates_are_refused_by_name(template: str, tag: str) -> None:
    problem = syntax_error(template)
    assert problem is not None and f"{{% {tag} %}} is not supported" in problem
    assert "vars: {header: file://header.txt}" in problem


def test_jinja_forms_of_mapping_loops_still_work() -> None:
    template = ("{% for k, v in m.items() %}{{ k }}{{ v }}{% endfor %}|{% for k, v in m | dictsort %}{{ k }}{{ v }}"
                "{% endfor %}|{% for (k, v) in m %}{{ k }}{% endfor %}|{% for a, b in [[1, 2]] recursive %}{{ a }}{% endfor %}")
    assert render(template, {"m": {"b": 2, "a": 1}}) == "b2a1|a1b2|ba|1"


def test_a_var_named_self_is_a_var() -> None:
    from pytest_replicate.templating import render

    assert render("I am {{ self }} ({{ self | upper }})", {"self": "Ada"}) == "I am Ada (ADA)"
    assert render("{{ x.self }}", {"x": {"self": 1}}) == "1"


def test_an_undefined_self_names_self() -> None:
    import pytest

    from pytest_replicate.errors import TemplateError
    from pytest_replicate.templating import render

    with pytest.raises(TemplateError, match="undefined variable 'self'"):
        render("{{ self }}", {})
