"""Deterministic assertions, scoring rules and transforms, run end to end through YAML files.

Most tests build one eval file from a table of cases: the ``echo`` provider returns the
rendered prompt ``{{ out }}``, so each case's ``out`` var is the output its assertion sees.
One pytest run per table keeps the suite fast; the table says which items must pass.
"""

from __future__ import annotations

import json
import re
import textwrap
from typing import NamedTuple

import pytest
from helpers import assert_no_traceback

PASS, FAIL = "PASSED", "FAILED"


class Case(NamedTuple):
    name: str
    out: str
    assertion: str  # YAML for one assert entry (flow or block style)
    expect: str
    line: str | None = None  # an fnmatch pattern the failure view must show


def build_suite(cases: list[Case]) -> str:
    lines = ["prompts:", "  - {id: out, raw: '{{ out }}'}", "providers: [echo]", "tests:"]
    for case in cases:
        lines += [
            f"  - description: {json.dumps(case.name)}",
            f"    vars: {{out: {json.dumps(case.out)}}}",
            "    assert:",
            textwrap.indent("- " + textwrap.dedent(case.assertion).strip().replace("\n", "\n  "), " " * 6),
        ]
    return "\n".join(lines) + "\n"


_ITEM_LINE = re.compile(r"^\S+::(?P<name>.+)\[out-echo\] (?P<outcome>PASSED|FAILED)")


def outcomes(result: pytest.RunResult) -> dict[str, str]:
    """``{description: PASSED/FAILED}`` from the ``-v`` output of a suite built by build_suite."""
    found = {}
    for line in result.stdout.lines:
        match = _ITEM_LINE.match(line)
        if match:
            found[match["name"]] = match["outcome"]
    return found


def run_table(pytester: pytest.Pytester, write_eval, cases: list[Case]) -> pytest.RunResult:
    assert len({case.name for case in cases}) == len(cases), "case names must be unique"
    write_eval(build_suite(cases))
    result = pytester.runpytest("-v")
    assert outcomes(result) == {case.name: case.expect for case in cases}
    for case in cases:
        if case.line:
            result.stdout.fnmatch_lines([case.line])
    assert_no_traceback(result)
    return result


# -- text checks --------------------------------------------------------------------------

TEXT_CASES = [
    Case("equals string", "Paris", "{type: equals, value: Paris}", PASS),
    Case("equals string differs", "Paris.", "{type: equals, value: Paris}", FAIL,
         "  [[]FAIL] equals 'Paris' (score 0.00): output 'Paris.' does not equal 'Paris'"),
    Case("equals number value", "42", "{type: equals, value: 42}", PASS),
    Case("equals JSON value", '{"b": [1, 2], "a": 1}', "{type: equals, value: {a: 1, b: [1, 2]}}", PASS),
    Case("equals JSON list", "[1, 2]", "{type: equals, value: [1, 2]}", PASS),
    Case("equals JSON differs", '{"a": 2}', "{type: equals, value: {a: 1}}", FAIL,
         '  [[]FAIL] equals {"a": 1} (score 0.00): output JSON differs from {"a": 1}'),
    Case("equals JSON but output is text", "a: 1", "{type: equals, value: {a: 1}}", FAIL,
         "*output is not JSON, so it cannot equal the expected JSON value"),
    Case("contains", "Hello World", "{type: contains, value: World}", PASS),
    Case("contains is case sensitive", "Hello World", "{type: contains, value: world}", FAIL,
         "  [[]FAIL] contains 'world' (score 0.00): output does not contain 'world'"),
    Case("icontains", "Hello World", "{type: icontains, value: WORLD}", PASS),
    Case("icontains missing", "Hello World", "{type: icontains, value: moon}", FAIL,
         "*[[]FAIL] icontains 'moon'*: output does not contain 'moon' (ignoring case)"),
    Case("contains-all list", "Hello World", "{type: contains-all, value: [Hello, World]}", PASS),
    Case("contains-all missing one", "Hello World", "{type: contains-all, value: [Hello, Moon]}", FAIL,
         "  [[]FAIL] contains-all [[]\"Hello\", \"Moon\"] (score 0.00): output is missing [[]'Moon']"),
    Case("contains-all comma string", "Hello World", "{type: contains-all, value: 'Hello, World'}", PASS),
    Case("contains-all comma string missing", "Hello World", "{type: contains-all, value: 'Hello, world'}", FAIL),
    Case("contains-any list", "Hello World", "{type: contains-any, value: [Moon, World]}", PASS),
    Case("contains-any none", "Hello World", "{type: contains-any, value: [Moon, Sun]}", FAIL,
         "*[[]FAIL] contains-any*: output contains none of [[]'Moon', 'Sun']"),
    Case("contains-any comma string", "Hello World", "{type: contains-any, value: 'Moon, World'}", PASS),
    Case("contains-any is case sensitive", "Hello World", "{type: contains-any, value: 'moon, world'}", FAIL),
    Case("icontains-all list", "Hello World", "{type: icontains-all, value: [hello, WORLD]}", PASS),
    Case("icontains-all missing", "Hello World", "{type: icontains-all, value: [hello, moon]}", FAIL,
         "*[[]FAIL] icontains-all*: output is missing [[]'moon'] (ignoring case)"),
    Case("icontains-all comma string", "Hello World", "{type: icontains-all, value: 'HELLO, world'}", PASS),
    Case("icontains-any list", "Hello World", "{type: icontains-any, value: [MOON, world]}", PASS),
    Case("icontains-any none", "Hello World", "{type: icontains-any, value: [moon, sun]}", FAIL),
    Case("icontains-any comma string", "Hello World", "{type: icontains-any, value: 'moon, WORLD'}", PASS),
    Case("icontains-any comma string none", "Hello World", "{type: icontains-any, value: 'moon, sun'}", FAIL),
    Case("starts-with", "Hello World", "{type: starts-with, value: Hello}", PASS),
    Case("starts-with elsewhere", "Hello World", "{type: starts-with, value: World}", FAIL,
         "  [[]FAIL] starts-with 'World' (score 0.00): output does not start with 'World'"),
    Case("regex", "call 555-1234 now", "{type: regex, value: '\\d{3}-\\d{4}'}", PASS),
    Case("regex anchored", "555-12345", "{type: regex, value: '^\\d{3}-\\d{4}$'}", FAIL,
         "*[[]FAIL] regex*: output does not match /^\\d{3}-\\d{4}$/"),
]


def test_text_assertions(pytester, write_eval):
    run_table(pytester, write_eval, TEXT_CASES)


# -- JSON checks --------------------------------------------------------------------------

ANSWER_SCHEMA = """{type: object, required: [answer], properties: {answer: {type: string}}}"""

JSON_CASES = [
    Case("is-json object", '{"a": 1}', "{type: is-json}", PASS),
    Case("is-json scalar", "42", "{type: is-json}", PASS),
    Case("is-json text", "not json", "{type: is-json}", FAIL,
         "  [[]FAIL] is-json (score 0.00): output is not valid JSON (Expecting value at position 0)"),
    Case("is-json trailing text", '{"a": 1} and more', "{type: is-json}", FAIL),
    Case("is-json schema", '{"answer": "yes"}', f"{{type: is-json, value: {ANSWER_SCHEMA}}}", PASS),
    Case("is-json schema missing key", '{"reply": "yes"}', f"{{type: is-json, value: {ANSWER_SCHEMA}}}", FAIL,
         "*[[]FAIL] is-json {*}*: output JSON does not match the schema: (root): 'answer' is a required property"),
    Case("is-json schema wrong type", '{"answer": 3}', f"{{type: is-json, value: {ANSWER_SCHEMA}}}", FAIL,
         "*output JSON does not match the schema: answer: 3 is not of type 'string'"),
    Case("is-json schema file", '{"answer": "yes"}', "{type: is-json, value: 'file://schema.json'}", PASS),
    Case("is-json schema file mismatch", '{"answer": 1}', "{type: is-json, value: 'file://schema.json'}", FAIL,
         "*answer: 1 is not of type 'string'"),
    Case("contains-json", 'Here: {"a": [1, 2]} done', "{type: contains-json}", PASS),
    Case("contains-json array", "list [1, 2] here", "{type: contains-json}", PASS),
    Case("contains-json none", "no json {here", "{type: contains-json}", FAIL,
         "  [[]FAIL] contains-json (score 0.00): output contains no JSON"),
    Case("contains-json schema", 'A {"x": 1} then {"answer": "y"}', f"{{type: contains-json, value: {ANSWER_SCHEMA}}}", PASS),
    Case("contains-json schema mismatch", 'A {"x": 1}', f"{{type: contains-json, value: {ANSWER_SCHEMA}}}", FAIL,
         "*output contains JSON, but none matches the schema: (root): 'answer' is a required property"),
]


def test_json_assertions(pytester, write_eval):
    (pytester.path / "schema.json").write_text(
        json.dumps({"type": "object", "required": ["answer"], "properties": {"answer": {"type": "string"}}})
    )
    run_table(pytester, write_eval, JSON_CASES)


# -- python -------------------------------------------------------------------------------

CHECK_PY = '''
def get_assert(output, context):
    return output.startswith(context["vars"]["out"][:2])

def is_short(output, context):
    return len(output) < 10

def graded(output, context):
    return {"pass": "good" in output, "score": 0.9 if "good" in output else 0.1,
            "reason": "looked for 'good' in " + repr(output)}
'''

PYTHON_CASES = [
    Case("python expression", "hello", "{type: python, value: 'len(output) == 5'}", PASS),
    Case("python expression false", "hello!", "{type: python, value: 'len(output) == 5'}", FAIL,
         "  [[]FAIL] python 'len(output) == 5' (score 0.00): python check returned False"),
    Case("python generator expression", "a b c",
         "{type: python, value: 'all(word in output for word in [\"a\", \"c\"])'}", PASS),
    Case("python comprehension", "a b c", "{type: python, value: '[w for w in output.split() if w in output] == [\"a\", \"b\", \"c\"]'}", PASS),
    Case("python context", "hello", "{type: python, value: 'context[\"vars\"][\"out\"] == output == context[\"prompt\"]'}", PASS),
    Case("python json and re modules", '{"n": 12}', "{type: python, value: 'json.loads(output)[\"n\"] == 12 and bool(re.search(\"1\", output))'}", PASS),
    Case("python body with return", "one two three", """
        type: python
        value: |
          words = output.split()
          return len(words) == 3
        """, PASS),
    Case("python body false", "one two", """
        type: python
        value: |
          words = output.split()
          return len(words) == 3
        """, FAIL),
    Case("python file function", "short", "{type: python, value: 'file://check.py:is_short'}", PASS),
    Case("python file function false", "much too long", "{type: python, value: 'file://check.py:is_short'}", FAIL),
    Case("python file default get_assert", "hello", "{type: python, value: 'file://check.py'}", PASS),
    Case("python number above zero", "x", "{type: python, value: '0.3'}", PASS),
    Case("python number zero", "x", "{type: python, value: '0'}", FAIL,
         "  [[]FAIL] python '0' (score 0.00): python check scored 0 (needs > 0)"),
    Case("python number below threshold", "x", "{type: python, value: '0.3', threshold: 0.5}", FAIL,
         "  [[]FAIL] python '0.3' (score 0.30): python check scored 0.3 (needs >= 0.5)"),
    Case("python number at threshold", "x", "{type: python, value: '0.5', threshold: 0.5}", PASS),
    Case("python dict pass", "good answer", "{type: python, value: 'file://check.py:graded'}", PASS),
    Case("python dict fail", "bad answer", "{type: python, value: 'file://check.py:graded'}", FAIL,
         "  [[]FAIL] python 'file://check.py:graded' (score 0.10): looked for 'good' in 'bad answer'"),
    Case("python dict inline", "x", "{type: python, value: '{\"pass\": True, \"score\": 0.25, \"reason\": \"fine\"}'}", PASS),
    Case("python dict with a text score", "x", "{type: python, value: '{\"pass\": True, \"score\": \"high\"}'}", FAIL,
         "*: python check returned a score that is not a number: 'high'"),
    Case("python returns text", "x", "{type: python, value: 'output'}", FAIL,
         "*python check must return a bool, a number or {pass, score, reason}, got str"),
]


def test_python_assertions(pytester, write_eval):
    (pytester.path / "check.py").write_text(CHECK_PY)
    run_table(pytester, write_eval, PYTHON_CASES)


# -- levenshtein and word-count -----------------------------------------------------------

MEASURE_CASES = [
    Case("levenshtein default 5", "kitten", "{type: levenshtein, value: sitting}", PASS),  # distance 3
    Case("levenshtein default 5 exceeded", "abcdefgh", "{type: levenshtein, value: ab}", FAIL,
         "  [[]FAIL] levenshtein 'ab' (score 0.00): Levenshtein distance 6 (at most 5 allowed)"),
    Case("levenshtein exact", "same", "{type: levenshtein, value: same, threshold: 0}", PASS),
    Case("levenshtein threshold 2", "kitten", "{type: levenshtein, value: sitting, threshold: 2}", FAIL,
         "*Levenshtein distance 3 (at most 2 allowed)"),
    Case("levenshtein threshold 3", "kitten", "{type: levenshtein, value: sitting, threshold: 3}", PASS),
    Case("word-count exact", "one two  three\n", "{type: word-count, value: 3}", PASS),
    Case("word-count exact differs", "one two", "{type: word-count, value: 3}", FAIL,
         "  [[]FAIL] word-count 3 (score 0.00): output has 2 words (expected exactly 3)"),
    Case("word-count range", "one two three", "{type: word-count, value: {min: 2, max: 3}}", PASS),
    Case("word-count below min", "one", "{type: word-count, value: {min: 2, max: 3}}", FAIL,
         '  [[]FAIL] word-count {"min": 2, "max": 3} (score 0.00): output has 1 words (expected at least 2 and at most 3)'),
    Case("word-count above max", "a b c d", "{type: word-count, value: {max: 3}}", FAIL,
         "*output has 4 words (expected at most 3)"),
    Case("word-count min only", "a b c d", "{type: word-count, value: {min: 4}}", PASS),
]


def test_levenshtein_and_word_count(pytester, write_eval):
    run_table(pytester, write_eval, MEASURE_CASES)


# -- not- ---------------------------------------------------------------------------------

NEGATED_CASES = [
    Case("not-contains", "Hello World", "{type: not-contains, value: Moon}", PASS),
    Case("not-contains present", "Hello World", "{type: not-contains, value: World}", FAIL,
         "  [[]FAIL] not-contains 'World' (score 0.00): output contains 'World'"),
    Case("not-icontains", "Hello World", "{type: not-icontains, value: 'as an ai'}", PASS),
    Case("not-icontains present", "As An AI, I cannot", "{type: not-icontains, value: 'as an ai'}", FAIL),
    Case("not-equals", "Paris", "{type: not-equals, value: London}", PASS),
    Case("not-equals same", "Paris", "{type: not-equals, value: Paris}", FAIL),
    Case("not-regex", "no digits", "{type: not-regex, value: '\\d'}", PASS),
    Case("not-regex matches", "1 digit", "{type: not-regex, value: '\\d'}", FAIL,
         "*[[]FAIL] not-regex*: output matches /\\d/"),
    Case("not-is-json", "plain text", "{type: not-is-json}", PASS),
    Case("not-is-json on JSON", "[1]", "{type: not-is-json}", FAIL),
    Case("not-contains-any", "Hello World", "{type: not-contains-any, value: [Moon, Sun]}", PASS),
    Case("not-contains-any present", "Hello World", "{type: not-contains-any, value: [Moon, World]}", FAIL),
    Case("not-starts-with", "Hello", "{type: not-starts-with, value: Sorry}", PASS),
    Case("not-python", "abc", "{type: not-python, value: 'output == \"xyz\"'}", PASS),
    # A negated score is 1 or 0 from the verdict, whatever score the check computed.
    Case("not-python with score", "abc", "{type: not-python, value: '0.4'}", FAIL,
         "  [[]FAIL] not-python '0.4' (score 0.00): python check scored 0.4 (needs > 0)"),
    Case("not-levenshtein", "kitten", "{type: not-levenshtein, value: sitting, threshold: 1}", PASS),
    Case("not-word-count", "a b", "{type: not-word-count, value: 3}", PASS),
]


def test_not_prefix_negates(pytester, write_eval):
    run_table(pytester, write_eval, NEGATED_CASES)


# -- weights, thresholds, metrics, assert-sets --------------------------------------------


def test_weights_and_threshold(pytester, write_eval):
    # Output "alpha beta". Weighted mean of scores: pass iff >= threshold.
    write_eval(
        """
        prompts: ["alpha beta"]
        providers: [echo]
        tests:
          - description: one failing without threshold
            assert:
              - {type: contains, value: alpha, weight: 100}
              - {type: contains, value: gamma, weight: 0.01}
          - description: 0.75 reaches 0.7
            threshold: 0.7
            assert:
              - {type: contains, value: alpha, weight: 3}
              - {type: contains, value: gamma, weight: 1}
          - description: 0.75 misses 0.8
            threshold: 0.8
            assert:
              - {type: contains, value: alpha, weight: 3}
              - {type: contains, value: gamma, weight: 1}
          - description: 0.25 misses 0.5
            threshold: 0.5
            assert:
              - {type: contains, value: gamma, weight: 3}
              - {type: contains, value: alpha, weight: 1}
          - description: negated failure scores 0
            threshold: 0.5
            assert:
              - {type: not-contains, value: alpha}
              - {type: python, value: '0.9'}
          - description: partial scores are averaged
            threshold: 0.8
            assert:
              - {type: contains, value: alpha}
              - {type: python, value: '0.4'}
        """
    )
    write_eval(
        """
        prompts: ["alpha beta"]
        providers: [echo]
        defaultTest:
          threshold: 0.5
        tests:
          - description: threshold from defaultTest
            assert:
              - {type: contains, value: alpha}
              - {type: contains, value: gamma}
          - description: own threshold wins
            threshold: 0.6
            assert:
              - {type: contains, value: alpha}
              - {type: contains, value: gamma}
        """,
        "defaults.eval.yaml",
    )
    result = pytester.runpytest("-v")
    result.stdout.fnmatch_lines_random(
        [
            "*::one failing without threshold*FAILED*",
            "*::0.75 reaches 0.7*PASSED*",
            "*::0.75 misses 0.8*FAILED*",
            "*::0.25 misses 0.5*FAILED*",
            "*::negated failure scores 0*FAILED*",
            "*::partial scores are averaged*FAILED*",
            "*::threshold from defaultTest*PASSED*",
            "*::own threshold wins*FAILED*",
        ]
    )
    # The failure view explains the rule that failed, with each weight.
    result.stdout.fnmatch_lines(
        [
            "*_ 0.75 misses 0.8*",
            "weighted score 0.75 < threshold 0.8",
            "*",
            "assertions:",
            "  [[]PASS] contains 'alpha' (score 1.00, weight 3): output contains 'alpha'",
            "  [[]FAIL] contains 'gamma' (score 0.00): output does not contain 'gamma'",
        ]
    )
    result.stdout.fnmatch_lines(["*_ negated failure scores 0*", "weighted score 0.45 < threshold 0.5"])
    result.stdout.fnmatch_lines(["*_ partial scores are averaged*", "weighted score 0.70 < threshold 0.8"])


def test_metric_is_accepted_and_shown(pytester, write_eval):
    write_eval(
        """
        prompts: ["alpha beta"]
        providers: [echo]
        tests:
          - description: metrics
            assert:
              - {type: contains, value: alpha, metric: accuracy}
              - {type: contains, value: beta, metric: accuracy}
              - {type: contains, value: gamma, metric: style, weight: 2}
              - type: assert-set
                metric: grouped
                assert:
                  - {type: contains, value: beta, metric: inner}
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "  [[]PASS] contains 'alpha' (score 1.00, metric accuracy): output contains 'alpha'",
            "  [[]PASS] contains 'beta' (score 1.00, metric accuracy): output contains 'beta'",
            "  [[]FAIL] contains 'gamma' (score 0.00, weight 2, metric style): output does not contain 'gamma'",
            "  [[]PASS] assert-set (score 1.00, metric grouped): all assertions passed",
            "    [[]PASS] contains 'beta' (score 1.00, metric inner): output contains 'beta'",
        ]
    )


def test_assert_sets(pytester, write_eval):
    write_eval(
        """
        prompts: ["Bonjour et bienvenue"]
        providers: [echo]
        tests:
          - description: set passes when all pass
            assert:
              - type: assert-set
                assert:
                  - {type: contains, value: Bonjour}
                  - {type: contains, value: bienvenue}
          - description: set fails when one fails
            assert:
              - type: assert-set
                assert:
                  - {type: contains, value: Bonjour}
                  - {type: contains, value: Salut}
          - description: set with its own threshold
            assert:
              - type: assert-set
                threshold: 0.5
                assert:
                  - {type: contains, value: Bonjour}
                  - {type: contains, value: Salut}
          - description: set threshold not reached
            assert:
              - type: assert-set
                threshold: 0.6
                assert:
                  - {type: contains, value: Bonjour}
                  - {type: contains, value: Salut}
          # The failing set still contributes its score (0.5, weight 2) to the test's mean:
          # (0.5 * 2 + 1) / 3 = 0.67.
          - description: failing set inside test threshold 0.6
            threshold: 0.6
            assert:
              - type: assert-set
                threshold: 0.6
                weight: 2
                assert:
                  - {type: contains, value: Bonjour}
                  - {type: contains, value: Salut}
              - {type: contains, value: bienvenue}
          - description: failing set inside test threshold 0.7
            threshold: 0.7
            assert:
              - type: assert-set
                threshold: 0.6
                weight: 2
                assert:
                  - {type: contains, value: Bonjour}
                  - {type: contains, value: Salut}
              - {type: contains, value: bienvenue}
          - description: nested sets
            assert:
              - type: assert-set
                assert:
                  - {type: contains, value: Bonjour}
                  - type: assert-set
                    threshold: 0.5
                    assert:
                      - {type: not-contains, value: Bonjour}
                      - {type: icontains, value: BIENVENUE}
        """
    )
    result = pytester.runpytest("-v")
    result.stdout.fnmatch_lines_random(
        [
            "*::set passes when all pass*PASSED*",
            "*::set fails when one fails*FAILED*",
            "*::set with its own threshold*PASSED*",
            "*::set threshold not reached*FAILED*",
            "*::failing set inside test threshold 0.6*PASSED*",
            "*::failing set inside test threshold 0.7*FAILED*",
            "*::nested sets*PASSED*",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "*_ set fails when one fails*",
            "output does not contain 'Salut'",
            "*",
            "assertions:",
            "  [[]FAIL] assert-set (score 0.50): output does not contain 'Salut'",
            "    [[]PASS] contains 'Bonjour' (score 1.00): output contains 'Bonjour'",
            "    [[]FAIL] contains 'Salut' (score 0.00): output does not contain 'Salut'",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "*_ failing set inside test threshold 0.7*",
            "weighted score 0.67 < threshold 0.7",
            "*",
            "  [[]FAIL] assert-set (score 0.50, weight 2): weighted score 0.50 < threshold 0.6",
            "    [[]PASS] contains 'Bonjour'*",
            "    [[]FAIL] contains 'Salut'*",
            "  [[]PASS] contains 'bienvenue'*",
        ]
    )


# -- templated values ---------------------------------------------------------------------


def test_assertion_values_are_rendered_with_vars(pytester, write_eval):
    write_eval(
        """
        prompts: ["{{ greeting }}, {{ name }}! {{ data }}"]
        providers: [echo]
        defaultTest:
          vars: {greeting: Hello, data: '{"who": "Ada"}'}
          assert:
            - {type: starts-with, value: "{{ greeting }}, "}
        tests:
          - description: rendered values
            vars: {name: Ada}
            assert:
              - {type: contains, value: "{{ name }}!"}
              - {type: icontains, value: "{{ name | upper }}"}
              - {type: contains-all, value: ["{{ greeting }}", "{{ name }}"]}
              - {type: contains-any, value: "Bob, {{ name }}"}
              - {type: regex, value: "^{{ greeting }}, [A-Z]"}
              - {type: contains-json, value: {type: object, required: [who]}}
              - {type: levenshtein, value: '{{ greeting }}, {{ name }}! {{ data }}', threshold: 0}
          - description: rendered value fails
            vars: {name: Ada, other: Grace}
            assert:
              - {type: contains, value: "{{ other }}"}
        """
    )
    result = pytester.runpytest("-v")
    result.stdout.fnmatch_lines_random(["*::rendered values*PASSED*", "*::rendered value fails*FAILED*"])
    # The failure view shows the value after rendering.
    result.stdout.fnmatch_lines(["  [[]FAIL] contains 'Grace' (score 0.00): output does not contain 'Grace'"])


def test_json_value_is_rendered_before_comparing(pytester, write_eval):
    write_eval(
        """
        prompts: ['{"name": "{{ name }}", "tags": ["{{ tag }}"]}']
        providers: [echo]
        tests:
          - vars: {name: Ada, tag: x}
            assert:
              - type: equals
                value: {name: "{{ name }}", tags: ["{{ tag }}"]}
        """
    )
    pytester.runpytest().assert_outcomes(passed=1)


# -- transforms ---------------------------------------------------------------------------

TRANSFORM_PY = '''
def get_transform(output, context):
    return output.replace(context["vars"]["name"], "<name>")

def shout(output, context):
    return output.upper() + "!"
'''


def test_transforms(pytester, write_eval):
    (pytester.path / "transform.py").write_text(TRANSFORM_PY)
    write_eval(
        """
        prompts: ["  Hello {{ name }}  "]
        providers:
          - id: echo
            transform: output.trim()
        tests:
          - description: options transform after provider transform
            vars: {name: Ada}
            options:
              transform: output.toUpperCase()
            assert:
              - {type: equals, value: HELLO ADA}
          - description: assertion transform applies to its assertion only
            vars: {name: Ada}
            assert:
              - {type: equals, value: Hello, transform: "output.split(' ')[0]"}
              - {type: equals, value: Hello Ada}
              - type: assert-set
                transform: output.toLowerCase()
                assert:
                  - {type: starts-with, value: hello}
                  - {type: equals, value: ada, transform: "output.split(' ')[1]"}
          - description: transform to data
            vars: {name: Ada}
            options:
              transform: '({"words": output.split(" "), "n": output.split(" ").length})'
            assert:
              - {type: python, value: 'output["n"] == 2'}
              - {type: equals, value: {words: [Hello, Ada], n: 2}}
              - {type: is-json}
              - {type: contains, value: '"words":["Hello","Ada"]'}  # promptfoo: JSON.stringify, compact
          - description: transform body and context
            vars: {name: Ada}
            options:
              transform: |
                const name = context.vars.name;
                if (context.prompt.trim() !== "Hello " + name) throw new Error("not the prompt");
                return output.replace(name, "<name>");
            assert:
              - {type: equals, value: Hello <name>}
          - description: file transform with function
            vars: {name: Ada}
            options:
              transform: file://transform.py:shout
            assert:
              - {type: equals, value: HELLO ADA!}
          - description: file transform default get_transform
            vars: {name: Ada}
            options:
              transform: file://transform.py
            assert:
              - {type: equals, value: Hello <name>}
          - description: assertion file transform
            vars: {name: Ada}
            assert:
              - {type: equals, value: HELLO ADA!, transform: "file://transform.py:shout"}
          - description: transform result is checked
            vars: {name: Ada}
            options:
              transform: output.toLowerCase()
            assert:
              - {type: equals, value: Hello Ada}
        """
    )
    result = pytester.runpytest("-v")
    result.stdout.fnmatch_lines_random(
        [
            "*::options transform after provider transform*PASSED*",
            "*::assertion transform applies to its assertion only*PASSED*",
            "*::transform to data*PASSED*",
            "*::transform body and context*PASSED*",
            "*::file transform with function*PASSED*",
            "*::file transform default get_transform*PASSED*",
            "*::assertion file transform*PASSED*",
            "*::transform result is checked*FAILED*",
        ]
    )
    # The failure view shows the transformed output.
    result.stdout.fnmatch_lines(
        ["output:", "    hello ada", "assertions:", "  [[]FAIL] equals 'Hello Ada' (score 0.00): *"]
    )


def test_transform_that_raises_fails_the_item(pytester, write_eval):
    write_eval(
        """
        prompts: ["Hello {{ name }}"]
        providers: [echo]
        tests:
          - description: options transform raises
            vars: {name: Ada}
            options:
              transform: output.nope()
          - description: assertion transform raises
            vars: {name: Ada}
            assert:
              - {type: contains, value: x, transform: "JSON.parse(output)"}
          - description: python assertion raises
            vars: {name: Ada}
            assert:
              - {type: python, value: "len(output) / 0"}
        """
    )
    result = pytester.runpytest("--replicate-json=report.json")
    result.assert_outcomes(failed=3)
    result.stdout.fnmatch_lines(
        [
            "*_ options transform raises*",
            "transform 'output.nope()' raised TypeError: output.nope is not a function",
            "provider: echo",
            "vars:",
            "    name: Ada",
            "prompt:",
            "    Hello Ada",
            "error:",
            "    transform 'output.nope()' raised TypeError*",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "*_ assertion transform raises*",
            "assertion transform 'JSON.parse(output)' raised SyntaxError: Unexpected token*",
        ]
    )
    # A python assertion that raises fails as an assertion, as in promptfoo: the case is graded, not an error.
    result.stdout.fnmatch_lines(
        [
            "*_ python assertion raises*",
            "python assertion 'len(output) / 0' raised ZeroDivisionError: division by zero",
            "*",
            "output:",
            "    Hello Ada",
            "assertions:",
            "  [[]FAIL] python*",
        ]
    )
    cases = {case["description"]: case for case in json.loads((pytester.path / "report.json").read_text())["files"][0]["cases"]}
    assert cases["assertion transform raises"]["error"] is not None  # promptfoo: an error for the case too
    assert cases["python assertion raises"]["error"] is None
    assert_no_traceback(result)


def test_a_python_assertion_that_raises_fails_alone_and_the_case_keeps_its_metrics(pytester, write_eval):
    # promptfoo 0.123.1 fails a python assertion that raises (score 0, "not-python" too) and grades
    # the case's other assertions, so the case counts in its metric means.
    write_eval(
        """
        prompts: ["Hello {{ name }}"]
        providers: [echo]
        tests:
          - description: raises
            vars: {name: Ada}
            assert:
              - {type: python, value: "len(output) / 0", metric: quality}
              - {type: not-python, value: "1 / 0", metric: quality}
              - {type: contains, value: Ada, metric: quality}
          - description: raises under a threshold
            vars: {name: Ada}
            threshold: 0.5
            assert:
              - {type: python, value: "len(output) / 0"}
              - {type: contains, value: Ada}
        """
    )
    result = pytester.runpytest("--replicate-json=report.json", "-rA")
    result.assert_outcomes(passed=1, failed=1)
    report = json.loads((pytester.path / "report.json").read_text())
    cases = {case["description"]: case for case in report["files"][0]["cases"]}
    raised = cases["raises"]
    assert raised["error"] is None
    assert [(a["type"], a["passed"], a["score"]) for a in raised["assertions"]] == [
        ("python", False, 0), ("not-python", False, 0), ("contains", True, 1)]
    assert raised["named_scores"] == {"quality": pytest.approx(1 / 3)}
    assert cases["raises under a threshold"]["passed"] is True  # (0 + 1) / 2 >= 0.5
    assert_no_traceback(result)


def test_provider_transform_that_raises(pytester, write_eval):
    write_eval(
        """
        prompts: ["Hello"]
        providers:
          - id: echo
            transform: "output.missing.x"
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["provider transform 'output.missing.x' raised TypeError: Cannot read properties of undefined (reading 'x')"]
    )
    assert_no_traceback(result)


# -- the failure view ---------------------------------------------------------------------


def test_failure_view(pytester, write_eval):
    write_eval(
        """
        prompts:
          - id: formal
            raw: "Greet {{ name | upper }} formally"
        providers: [echo]
        tests:
          - description: greets people
            vars: {name: Ada, mood: calm}
            assert:
              - {type: icontains, value: "{{ name }}"}
              - {type: contains, value: hello}
              - {type: not-contains, value: formally}
              - {type: word-count, value: {max: 10}}
        """,
        "greet.eval.yaml",
    )
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*_ greets people[[]formal-echo[]] (greet.eval.yaml:7) _*",
            "output does not contain 'hello'; output contains 'formally'",
            "provider: echo",
            "vars:",
            "    name: Ada",
            "    mood: calm",
            "prompt:",
            "    Greet ADA formally",
            "output:",
            "    Greet ADA formally",
            "assertions:",
            "  [[]PASS] icontains 'Ada' (score 1.00): output contains 'Ada' (ignoring case)",
            "  [[]FAIL] contains 'hello' (score 0.00): output does not contain 'hello'",
            "  [[]FAIL] not-contains 'formally' (score 0.00): output contains 'formally'",
            '  [[]PASS] word-count {"max": 10} (score 1.00): output has 3 words (expected at most 10)',
            "*short test summary info*",
            "FAILED greet.eval.yaml::greets people[[]formal-echo[]] - output does not contain *",
        ]
    )
    assert_no_traceback(result)


def test_failure_view_truncates_long_output_unless_very_verbose(pytester, write_eval):
    write_eval(
        """
        prompts: ["{{ 'x' * 2500 }}"]
        providers: [echo]
        tests:
          - assert: [{type: contains, value: "y"}]
        """
    )
    result = pytester.runpytest()
    result.stdout.fnmatch_lines(["*... (500 more characters; use -vv to see everything)"])
    result = pytester.runpytest("-vv")
    assert "more characters" not in result.stdout.str()
    assert "x" * 2500 in result.stdout.str()
