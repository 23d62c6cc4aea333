"""JavaScript in eval files, as promptfoo 0.123.1 runs it: javascript assertions, JS transforms,
transformVars, file://x.js functions and var files, in the embedded engine (the js extra).

The configs are shaped like promptfoo's examples, with the echo provider (the output is the
prompt); verdicts were checked against promptfoo 0.123.1 (scripts/promptfoo_diff/javascript.yaml).
"""

from __future__ import annotations

import json
import sys

import pytest
from helpers import write

pytest.importorskip("py_mini_racer")  # the js extra; the dev extra installs it


def clean(result: pytest.RunResult) -> None:
    output = result.stdout.str() + result.stderr.str()
    assert "Traceback" not in output and "pytest_replicate/" not in output


def test_javascript_assertions_in_every_form_promptfoo_accepts(pytester, write_eval):
    write(pytester, "checks.js", """
        module.exports = (output, context) => ({
          pass: output.includes(context.vars.name), score: 0.7, reason: 'mentions ' + context.vars.name,
        });
        module.exports.longish = (output) => output.length / 100;
        """)
    write(pytester, "esm.mjs", "export default function (output) { return output.startsWith('Hello'); }\n")
    write_eval("""
        prompts: ["Hello {{ name }}, welcome"]
        providers: [echo]
        tests:
          - description: forms
            vars: {name: Ada}
            assert:
              - {type: javascript, value: output.length > 5}
              - {type: javascript, value: "output.includes('{{ name }}')"}
              - type: javascript
                value: |
                  const words = output.split(' ');
                  return {pass: words.length === 3, score: 1, reason: words.length + ' words'};
              - {type: javascript, value: "const n = output.length; n > 3;"}
              - {type: javascript, value: file://checks.js}
              - {type: javascript, value: "file://checks.js:longish", threshold: 0.1}
              - {type: javascript, value: file://esm.mjs}
              - {type: not-javascript, value: "output.startsWith('Bye')"}
              - type: javascript
                value: >-
                  context.provider.id() === 'echo' && context.vars.name === 'Ada'
                  && context.prompt === output && context.test.description === 'forms'
              - {type: javascript, value: context.config.min < output.length, config: {min: 3}}
              - {type: javascript, value: "Promise.resolve(output.endsWith('welcome'))"}
          - description: a number is the score
            vars: {name: Bo}
            assert:
              - {type: javascript, value: output.length / 100, threshold: 0.5}
        """)
    result = pytester.runpytest("-v", "--replicate-json=report.json")
    result.stdout.fnmatch_lines_random(["*::forms*PASSED*", "*::a number is the score*FAILED*"])
    result.stdout.fnmatch_lines(["*[[]FAIL] javascript 'output.length / 100' (score 0.17): Custom function returned false*"])
    clean(result)


def test_negation_keeps_a_numeric_score_and_a_result_object_s_score(pytester, write_eval):
    write_eval("""
        prompts: ["abcd"]
        providers: [echo]
        tests:
          - assert:
              - {type: not-javascript, value: output.length / 10}
              - {type: not-javascript, value: "({pass: false, score: 0.25, reason: 'nope'})"}
        """)
    result = pytester.runpytest("--replicate-json=report.json")
    result.assert_outcomes(failed=1)
    case = json.loads((pytester.path / "report.json").read_text())["files"][0]["cases"][0]
    scores = [(item["passed"], item["score"]) for item in case["assertions"]]
    assert scores == [(False, 0.4), (True, 0.25)]  # promptfoo: the number and the object's score, not 1 - score


def test_a_script_that_throws_or_returns_nonsense_fails_only_its_assertion(pytester, write_eval):
    write_eval("""
        prompts: ["Hello"]
        providers: [echo]
        tests:
          - assert:
              - {type: javascript, value: output.nope.x}
              - {type: not-javascript, value: "JSON.parse(output)"}
              - {type: javascript, value: "'a string'"}
              - {type: javascript, value: "({pass: true})"}
              - {type: contains, value: Hello}
        """)
    result = pytester.runpytest("--replicate-json=report.json")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "*[[]FAIL] javascript 'output.nope.x' (score 0.00): Custom function threw error: TypeError: Cannot read "
        "properties of undefined (reading 'x')",
        "*[[]FAIL] not-javascript 'JSON.parse(output)' (score 0.00): Custom function threw error: SyntaxError: *",
        "*[[]FAIL] javascript \"'a string'\" (score 0.00): *Got type string",
        "*[[]FAIL] javascript '({pass: true})' (score 0.00): *Got type object",
        "*[[]PASS] contains 'Hello'*",
    ])
    case = json.loads((pytester.path / "report.json").read_text())["files"][0]["cases"][0]
    assert case["error"] is None  # graded, so it counts in the metrics, as in promptfoo
    clean(result)


def test_javascript_transforms_at_every_level(pytester, write_eval):
    write(pytester, "shape.js", """
        module.exports = (output, context) => JSON.stringify({text: output, name: context.vars.name});
        module.exports.shout = (output) => output.toUpperCase() + '!';
        """)
    write_eval("""
        prompts: ["  Hello {{ name }}  "]
        providers:
          - id: echo
            transform: output.trim()
        tests:
          - description: promptfoo's most common transform
            vars: {name: Ada}
            options:
              transform: file://shape.js
            assert:
              - {type: is-json}
              - {type: javascript, value: "output.includes('Ada')", transform: "JSON.parse(output).name"}
              - {type: equals, value: '{"TEXT":"HELLO ADA","NAME":"ADA"}!', transform: "file://shape.js:shout"}
          - description: a multi-line transform is a body
            vars: {name: Ada}
            options:
              transform: |
                const parsed = {words: output.split(' ')};
                return parsed.words.length;
            assert:
              - {type: equals, value: 2}
          - description: a transform that returns nothing errors
            vars: {name: Ada}
            options:
              transform: "undefined"
        """)
    result = pytester.runpytest("-v")
    result.stdout.fnmatch_lines_random([
        "*::promptfoo's most common transform*PASSED*",
        "*::a multi-line transform is a body*PASSED*",
        "*::a transform that returns nothing errors*FAILED*",
    ])
    result.stdout.fnmatch_lines(["transform 'undefined' did not return a value"])
    clean(result)


def test_transform_vars_runs_before_the_vars_expand(pytester, write_eval):
    write_eval("""
        prompts: ["{{ topic }} x{{ n }}"]
        providers: [echo]
        defaultTest:
          options:
            transformVars: "({...vars, n: vars.n * 2})"
        tests:
          - vars: {topic: cats, n: 2}
            assert: [{type: equals, value: cats x4}]
          - vars: {topic: [a, b], n: 1}
            options:
              transformVars: |
                return {topic: vars.topic.join('+')};
            assert: [{type: equals, value: a+b x1}]
          - vars: {topic: c, n: 1}
            options:
              transformVars: vars.nope.x
        """)
    result = pytester.runpytest("-v")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*tests[[]2].options.transformVars: transformVars 'vars.nope.x' raised TypeError: *"])
    clean(result)


def test_javascript_var_files(pytester, write_eval):
    write(pytester, "context.js", """
        module.exports = function (varName, prompt, vars) {
          return {output: `${varName} for ${vars.city} in ${prompt}`};
        };
        """)
    write(pytester, "broken.js", "module.exports = () => ({error: 'no database'});\n")
    write_eval("""
        prompts: ["<{{ ctx }}>"]
        providers: [echo]
        tests:
          - vars: {city: Paris, ctx: file://context.js}
            assert: [{type: equals, value: "<ctx for Paris in <{{ '{{' }} ctx }}>>"}]
          - vars: {ctx: file://broken.js}
        """)
    result = pytester.runpytest()
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*tests[[]1].vars.ctx: file://broken.js: get_var returned an error: no database"])
    clean(result)


@pytest.mark.parametrize(("assertion", "expected"), [
    ("{type: javascript, value: 'output.length >'}",
     "suite.eval.yaml:5: tests[[]0].assert[[]0].value: invalid JavaScript (SyntaxError: *): 'output.length >'"),
    ("{type: javascript, value: 'file://missing.js'}",
     "suite.eval.yaml:5: tests[[]0].assert[[]0].value: file not found: missing.js*"),
    ("{type: javascript, value: 'file://reads.js'}",
     "*loading reads.js raised Error: require('fs') is not available: JavaScript in pytest-replicate runs without "
     "file, network or module access*"),
    ("{type: javascript, value: 'file://imports.mjs'}", "*imports.mjs, line 1: import is not available*"),
    ("{type: javascript, value: 'file://ok.js:nothing'}", "*ok.js exports no function named nothing*"),
])
def test_javascript_that_cannot_load_is_a_clear_problem_of_its_test(pytester, write_eval, assertion, expected):
    write(pytester, "reads.js", "const fs = require('fs');\nmodule.exports = () => true;\n")
    write(pytester, "ok.js", "module.exports = () => true;\n")
    write(pytester, "imports.mjs", "import fs from 'node:fs';\nexport default () => true;\n")
    write_eval(f"""
        prompts: ["hi"]
        providers: [echo]
        tests:
          - assert: [{assertion}]
          - assert: [{{type: contains, value: hi}}]
        """)
    result = pytester.runpytest()
    result.stdout.fnmatch_lines([expected])
    assert "passed" in result.stdout.str()  # the file's other test runs
    clean(result)


def test_an_endless_loop_is_stopped(pytester, write_eval, monkeypatch):
    from pytest_replicate.jscompat import engine

    monkeypatch.setattr(engine.engine(), "time_limit", 0.5)
    write_eval("""
        prompts: ["hi"]
        providers: [echo]
        tests:
          - assert:
              - type: javascript
                value: |
                  while (true) {}
                  return true
              - {type: contains, value: hi}
        """)
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*Custom function threw error: took longer than 0.5 s and was stopped*"])


def test_without_the_js_extra_the_message_says_what_to_install(pytester, write_eval, monkeypatch):
    monkeypatch.setitem(sys.modules, "py_mini_racer", None)  # as if mini-racer were not installed
    write_eval("""
        prompts: ["hi"]
        providers: [echo]
        tests:
          - options: {transform: output.trim()}
        """)
    result = pytester.runpytest()
    result.stdout.fnmatch_lines([
        "suite.eval.yaml:5: tests[[]0].options.transform: JavaScript in this transform needs the js extra: "
        "pip install 'pytest-replicate[[]js]'"])
    clean(result)


def test_a_script_value_of_another_assertion_type_is_computed_per_case(pytester, write_eval):
    write(pytester, "expected.js", """
        module.exports = (output, context) => context.vars.want;
        module.exports.verdict = () => true;
        """)
    write(pytester, "expected.py", "def get_assert(output, context):\n    return context['vars']['want'].upper()\n")
    write_eval("""
        prompts: ["{{ out }}"]
        providers: [echo]
        tests:
          - vars: {out: hello there, want: hello}
            assert:
              - {type: contains, value: file://expected.js}
              - {type: icontains, value: file://expected.py}
          - vars: {out: hello, want: hello}
            assert: [{type: contains, value: "file://expected.js:verdict"}]
        """)
    result = pytester.runpytest()
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*the script for this contains assertion returned a boolean: only javascript and python*"])
    clean(result)


def test_csv_javascript_asserts(pytester, write_eval):
    write(pytester, "checks.js", "module.exports = (output) => output.length / 10;\n")
    (pytester.path / "tests.csv").write_text(
        "out,__expected\n"
        "hello,javascript: output.length === 5\n"
        "hi!,fn: output.endsWith('!')\n"
        "hey,eval: output.length > 3\n"
        "hello world,file://checks.js\n", encoding="utf-8")
    write_eval("""
        prompts: ["{{ out }}"]
        providers: [echo]
        tests: file://tests.csv
        """)
    result = pytester.runpytest("-v")
    result.assert_outcomes(passed=3, failed=1)
    result.stdout.fnmatch_lines(["*out=hey*FAILED*"])


def test_prompt_functions_filters_and_test_generators_in_javascript(pytester, write_eval):
    """The hooks that load file:// functions take JavaScript files through the same loader."""
    write(pytester, "prompt.js", """
        module.exports = ({ vars, provider }) => `Tell me about ${vars.topic.toUpperCase()} (${provider.id()})`;
        module.exports.chat = ({ vars }) => [{ role: 'system', content: 'Be brief' }, { role: 'user', content: vars.topic }];
        """)
    write(pytester, "filters.js", "module.exports = (text) => text.split('').reverse().join('');\n")
    write(pytester, "gen.js", """
        module.exports.cases = (config) => [{ vars: { topic: config.topic } }];
        """)
    write_eval("""
        prompts:
          - file://prompt.js
          - {id: "file://prompt.js:chat", label: chat}
          - {raw: "{{ topic | rev }}", label: reversed}
        providers: [echo]
        nunjucksFilters: {rev: file://filters.js}
        defaultTest:
          assert: [{type: javascript, value: "output.includes('TEA (echo)') || output.includes('Be brief') || output === 'aet'"}]
        tests:
          - path: file://gen.js:cases
            config: {topic: tea}
        """)
    result = pytester.runpytest("-v")
    clean(result)
    result.assert_outcomes(passed=3)
