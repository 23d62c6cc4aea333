"""Expansion of tests into cases: promptfoo's var rules, the case limit, shared data."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from pytest_replicate.errors import ConfigError
from pytest_replicate.suite import expand as expand_module
from pytest_replicate.suite.expand import expand
from pytest_replicate.suite.loader import load_eval_file


def suite(tmp_path: Path, text: str):
    file = tmp_path / "suite.eval.yaml"
    file.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return load_eval_file(file)


GRID = """
prompts: ["{{ a }}{{ b }}"]
providers: [echo]
tests:
  - vars: {a: [x, y, z], b: [p, q, r, s]}
"""


def test_the_limit_is_a_parameter(tmp_path):
    loaded = suite(tmp_path, GRID)
    assert len(expand(loaded, max_cases=12)) == 12
    with pytest.raises(ConfigError) as info:
        expand(loaded, max_cases=11)
    assert "a (3 values) x b (4 values)" in info.value.message
    assert info.value.line == 4 and info.value.path == ("tests", 0)


def test_the_default_limit_is_read_when_expanding(tmp_path, monkeypatch):
    monkeypatch.setattr(expand_module, "DEFAULT_MAX_CASES", 5)
    with pytest.raises(ConfigError, match="more than the limit of 5"):
        expand(suite(tmp_path, GRID))


def test_cases_of_one_test_share_its_vars_and_spec(tmp_path):
    loaded = suite(tmp_path, """
        prompts: ["{{ q }}", "again {{ q }}"]
        providers: [{id: echo, label: one}, {id: echo, label: two}]
        tests:
          - vars: {q: hi}
    """)
    cases = expand(loaded)
    assert len(cases) == 4
    assert all(case.vars is cases[0].vars for case in cases)
    assert all(case.test is cases[0].test for case in cases)


def test_var_cycles_and_self_references_stay_as_written(tmp_path):
    cases = expand(suite(tmp_path, """
        prompts: ["{{ a }}"]
        providers: [echo]
        tests:
          - vars: {a: "{{ b }}", b: "{{ a }}", c: "{{ c }}!", d: "{{ a }}"}
    """))
    assert cases[0].vars["c"] == "{{ c }}!"
    assert cases[0].vars["a"] in ("{{ b }}", "{{ a }}")


def test_non_string_values_are_not_rendered(tmp_path):
    cases = expand(suite(tmp_path, """
        prompts: ["x"]
        providers: [echo]
        tests:
          - vars: {chat: [{content: "{{ q }}"}], q: hi, n: 3}
    """))
    assert cases[0].vars == {"chat": [{"content": "{{ q }}"}], "q": "hi", "n": 3}


def test_var_errors_in_csv_tests_name_row_and_column(tmp_path):
    (tmp_path / "tests.csv").write_text('q,ctx\nhi,"{{ q | int(""x"") + [] }}"\n', encoding="utf-8")
    loaded = suite(tmp_path, """
        prompts: ["{{ ctx }}"]
        providers: [echo]
        tests: file://tests.csv
    """)
    [case] = expand(loaded)  # the case fails with the problem when it runs
    problem = case.test.problem
    assert problem is not None and problem.line == 2 and problem.path == ()
    assert problem.message.startswith("row 1, column 'ctx': var 'ctx' could not be rendered")
    assert case.vars == {"q": "hi", "ctx": '{{ q | int("x") + [] }}'}  # as written


def test_a_var_that_cannot_be_made_fails_only_its_cases(tmp_path):
    loaded = suite(tmp_path, """
        prompts: ["{{ a }} {{ b }}"]
        providers: [echo]
        tests:
          - description: bad
            vars: {a: [x, y], b: "{{ a | int + [] }}"}
            assert: [{type: contains, value: x}]
          - vars: {a: z, b: ok}
    """)
    cases = expand(loaded)
    assert [case.name for case in cases] == ["bad (a=x)[{{ a }} {{ b }}-echo]", "bad (a=y)[{{ a }} {{ b }}-echo]",
                                             "a=z, b=ok[{{ a }} {{ b }}-echo]"]
    broken = [case for case in cases if case.test.problem is not None]
    assert len(broken) == 2 and all(case.test.asserts == [] for case in broken)
    assert "tests[0].vars.b" in str(broken[0].test.problem)
    assert cases[2].test.problem is None and cases[2].vars == {"a": "z", "b": "ok"}


def test_a_case_whose_test_has_a_problem_calls_nothing_and_fails_with_it(tmp_path):
    from pytest_replicate.providers.base import CallContext
    from pytest_replicate.run.runner import run_case

    loaded = suite(tmp_path, """
        prompts: ["{{ q }}"]
        providers: [echo]
        tests:
          - vars: {q: hi}
            assert: [{type: contians, value: hi}]
    """)
    [case] = expand(loaded)

    class Refuses:
        def call(self, prompt, context):
            raise AssertionError("a case with a problem must not be called")

    result = run_case(case, Refuses(), CallContext())  # as load_suite + run_case in a test function
    assert not result.passed and "unknown assertion type 'contians'" in result.error


def test_a_case_keeps_its_name_and_finds_its_label_in_it(tmp_path):
    """The name is one string shared with the item; the label is read back from it, or kept
    apart when the name changed it (``::`` becomes ``:`` in node ids)."""
    cases = expand(suite(tmp_path, """
        prompts: [{id: p, label: "lab::el", raw: "{{ q }}"}]
        providers: [echo]
        tests:
          - vars: {q: plain}
          - description: "a::b :::c"
            vars: {q: colons}
          - description: same
            vars: {q: one}
          - description: same
            vars: {q: two}
        """), max_cases=10)
    assert [case.name for case in cases[:2]] == ["q=plain[lab:el-echo]", "a:b ::c[lab:el-echo]"]
    assert [case.label for case in cases[:2]] == ["q=plain", "a::b :::c"]
    for case in cases[2:]:  # made unique: the label changed, and the name with it
        assert case.label.startswith("same #") and case.name == f"{case.label}[lab:el-echo]"
    assert cases[2].name != cases[3].name
