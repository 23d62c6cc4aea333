"""Bad input: one clear collection error naming the file, line and YAML path, no traceback.

Problems that only show when a case runs (an undefined template variable) fail that item
instead, with a message as clear.
"""

from __future__ import annotations

import fnmatch
import json
from typing import NamedTuple

import pytest
from helpers import assert_no_traceback


class BadInput(NamedTuple):
    id: str
    eval_file: str  # suite.eval.yaml
    lines: list[str]  # expected lines, in order; "*" is a wildcard; the first is the headline
    other_files: dict[str, str | bytes] = {}  # noqa: RUF012 - never mutated


def _case(id: str, eval_file: str, *lines: str, **files: str | bytes) -> BadInput:
    """``lines`` are the expected message lines; ``files`` are more files, ``vars__yaml`` -> vars.yaml."""
    return BadInput(id, eval_file, list(lines), {name.replace("__", "."): text for name, text in files.items()})


HEAD = 'prompts: ["hi {{ name }}"]\nproviders: [echo]\n'

BAD_INPUTS = [
    _case(
        "malformed YAML",
        HEAD + "tests:\n  - vars: {name: Ada\n  - vars: {name: Bob}\n",
        "suite.eval.yaml:5: invalid YAML, column 9: while parsing a flow mapping started on line 4"
        " did not find expected ',' or '}'",
        "  hint: check the indentation and quoting around this line",
    ),
    _case(
        "schema error deep inside",
        HEAD + "tests:\n  - vars: {name: Ada}\n  - vars: {name: Bob}\n    assert:\n"
        "      - type: contains\n        value: Bob\n        weight: heavy\n",
        "suite.eval.yaml:9: tests[1].assert[0].weight: expected a number, got 'heavy'",
    ),
    _case(
        "unknown top-level key",
        HEAD + "test:\n  - vars: {name: Ada}\n",
        "suite.eval.yaml:3: test: unknown key 'test'",
        "  hint: did you mean 'tests'?",
    ),
    _case(
        "unknown key in an assertion",
        HEAD + "defaultTest:\n  assert:\n    - type: equals\n      valu: x\n",
        "suite.eval.yaml:6: defaultTest.assert[0].valu: unknown key 'valu'",
        "  hint: did you mean 'value'?",
    ),
    _case(
        "unsupported promptfoo key",
        HEAD + "extensions: [file://hooks.py:hook]\n",
        "suite.eval.yaml:3: extensions: promptfoo's extensions is not supported: its extension hooks (beforeAll, "
        "afterEach...) run code around the whole evaluation, which pytest fixtures and conftest.py hooks do here",
    ),
    _case(
        "missing required key",
        'prompts: ["hi"]\ntests: []\n',
        "suite.eval.yaml:1: missing required key 'providers'",
    ),
    _case(
        "tests given a mapping",
        HEAD + "tests:\n  vars: {name: Ada}\n",
        "2 problems in suite.eval.yaml:",
        "  suite.eval.yaml:3: tests: missing required key 'path'",
        "    hint: a test generator is {path: file://tests.py:function, config: {...}}; the function returns a list of tests",
        "  suite.eval.yaml:4: tests.vars: unknown key 'vars'",
    ),
    _case(
        "test given a plain string",
        HEAD + "tests:\n  - tests.yaml\n",
        "suite.eval.yaml:4: tests[0]: file not found: 'file://tests.yaml' (looked for *tests.yaml)",
    ),
    _case(
        "eval file that is not a mapping",
        "- prompts\n- providers\n",
        "suite.eval.yaml:1: an eval file must be a mapping with prompts, providers and tests",
    ),
    _case(
        "misspelled assertion type",
        HEAD + "tests:\n  - assert:\n      - type: contians\n        value: x\n",
        "suite.eval.yaml:5: tests[0].assert[0].type: unknown assertion type 'contians'",
        "  hint: did you mean 'contains'?",
    ),
    _case(
        "misspelled negated type",
        HEAD + "tests:\n  - assert:\n      - {type: contains, value: x}\n      - type: not-contain\n        value: x\n",
        "suite.eval.yaml:6: tests[0].assert[1].type: unknown assertion type 'not-contain'",
        "  hint: did you mean 'not-contains'?",
    ),
    _case(
        "negated assert-set",
        HEAD + "tests:\n  - assert:\n      - type: not-assert-set\n        assert: [{type: contains, value: x}]\n",
        "suite.eval.yaml:5: tests[0].assert[0].type: assert-set cannot be negated",
        "  hint: negate the assertions inside it instead",
    ),
    _case(
        "nested assert outside an assert-set",
        HEAD + "tests:\n  - assert:\n      - type: contains\n        value: x\n        assert: [{type: contains, value: y}]\n",
        "suite.eval.yaml:7: tests[0].assert[0].assert: only an assert-set can hold 'assert' (this is a 'contains' assertion)",
        "  hint: use type: assert-set to group assertions",
    ),
    _case(
        "contains without value",
        HEAD + "tests:\n  - assert:\n      - type: contains\n",
        "suite.eval.yaml:5: tests[0].assert[0]: contains needs a value",
        "  hint: add 'value:' to this contains assertion",
    ),
    _case(
        "invalid regex",
        HEAD + "tests:\n  - assert:\n      - type: regex\n        value: 'a(b'\n",
        "suite.eval.yaml:6: tests[0].assert[0].value: invalid regular expression /a(b/: missing ) (regex values are JavaScript*",
    ),
    _case(
        "word-count given text",
        HEAD + "tests:\n  - assert:\n      - type: word-count\n        value: many\n",
        "suite.eval.yaml:6: tests[0].assert[0].value: value must be a word count or {min: N, max: M}",
    ),
    _case(
        "word-count given an unknown bound",
        HEAD + "tests:\n  - assert:\n      - type: word-count\n        value: {min: 1, most: 3}\n",
        "suite.eval.yaml:6: tests[0].assert[0].value: value must be a word count or {min: N, max: M}",
    ),
    _case(
        "contains-any given a mapping",
        HEAD + "tests:\n  - assert:\n      - type: contains-any\n        value: {a: 1}\n",
        "suite.eval.yaml:6: tests[0].assert[0].value: value must be a list of strings (or a comma-separated string)",
    ),
    _case(
        "is-json given an invalid schema",
        HEAD + "tests:\n  - assert:\n      - type: is-json\n        value: {type: objekt}\n",
        "suite.eval.yaml:6: tests[0].assert[0].value: value is not a valid JSON Schema: *",
    ),
    _case(
        "missing prompt file",
        'prompts: ["file://prompts/missing.txt"]\nproviders: [echo]\n',
        "suite.eval.yaml:1: prompts[0]: file not found: 'file://prompts/missing.txt' (looked for *missing.txt)",
        "  hint: paths in file:// references are relative to the folder of the file that names them",
    ),
    _case(
        "prompt glob without matches",
        "prompts:\n  - file://prompts/*.txt\nproviders: [echo]\n",
        "suite.eval.yaml:2: prompts[0]: no file matches 'file://prompts/*.txt'",
        "  hint: paths in file:// references are relative*",
    ),
    _case(
        "missing vars file",
        HEAD + "tests:\n  - vars: file://vars.yaml\n",
        "suite.eval.yaml:4: tests[0].vars: file not found: 'file://vars.yaml' (looked for *vars.yaml)",
        "  hint: paths in file:// references are relative*",
    ),
    _case(
        "missing file as a var value",
        HEAD + "tests:\n  - vars:\n      name: [Ada, file://bob.txt]\n",
        "suite.eval.yaml:5: tests[0].vars.name[1]: file not found: 'file://bob.txt' (looked for *bob.txt)",
        "  hint: paths in file:// references are relative*",
    ),
    _case(
        "vars file that is not a mapping",
        HEAD + "tests:\n  - vars: file://vars.yaml\n",
        "suite.eval.yaml:4: tests[0].vars: a vars file must contain a mapping of variable names to values",
        vars__yaml="- Ada\n- Bob\n",
    ),
    _case(
        "vars file with invalid JSON",
        HEAD + "tests:\n  - vars: file://vars.json\n",
        "vars.json:2: invalid JSON: Expecting value",
        vars__json='{"name":\n}\n',
    ),
    _case(
        "missing tests file",
        HEAD + "tests: file://cases.yaml\n",
        "suite.eval.yaml:3: tests: file not found: 'file://cases.yaml' (looked for *cases.yaml)",
        "  hint: paths in file:// references are relative*",
    ),
    _case(
        "error inside a tests file",
        HEAD + "tests: file://cases.yaml\n",
        "cases.yaml:4: [1].assert[0].type: unknown assertion type 'equal'",
        "  hint: did you mean 'equals'?",
        cases__yaml="- vars: {name: Ada}\n- vars: {name: Bob}\n  assert:\n    - type: equal\n      value: x\n",
    ),
    _case(
        "schema error inside a tests file",
        HEAD + "tests: file://cases.yaml\n",
        "cases.yaml:2: [0].threshold: expected a number, got 'high'",
        cases__yaml="- vars: {name: Ada}\n  threshold: high\n",
    ),
    _case(
        "tests file that is not a list",
        HEAD + "tests: file://cases.yaml\n",
        "cases.yaml:1: a tests file must contain a list of tests",
        cases__yaml="just text\n",
    ),
    _case(
        "malformed tests file",
        HEAD + "tests: file://cases.yaml\n",
        "cases.yaml:3: invalid YAML, column 1: while parsing a flow node did not find expected node content",
        "  hint: check the indentation and quoting around this line",
        cases__yaml="- vars: {name: Ada}\n  assert: [\n",
    ),
    _case(
        "missing schema file",
        HEAD + "tests:\n  - assert:\n      - type: is-json\n        value: file://schema.json\n",
        "suite.eval.yaml:6: tests[0].assert[0].value: file not found: 'file://schema.json' (looked for *schema.json)",
        "  hint: paths in file:// references are relative*",
    ),
    _case(
        "schema file with invalid JSON",
        HEAD + "tests:\n  - assert:\n      - type: is-json\n        value: file://schema.json\n",
        "schema.json:1: invalid JSON: Expecting property name enclosed in double quotes",
        schema__json="{type: object}\n",
    ),
    _case(
        "CSV with an unknown special column",
        HEAD + "tests: file://tests.csv\n",
        "tests.csv:1: unknown special column '__foo'",
        "  hint: special columns are __expected, __expectedN, __description, __threshold, __metric, __providerOutput, "
        "__metadata:KEY, __metadata:KEY[] (a list), __config:__expectedN:threshold, __prefix, __suffix",
        tests__csv="name,__foo\nAda,x\n",
    ),
    _case(
        "CSV with a bad threshold",
        HEAD + "tests: file://tests.csv\n",
        "tests.csv:3: row 2, column '__threshold': must be a number of 0 or more, got 'high'",
        tests__csv="name,__threshold\nAda,0.5\nBob,high\n",
    ),
    _case(
        "CSV with a bad short-syntax assertion",
        HEAD + "tests: file://tests.csv\n",
        "tests.csv:3: row 2, column '__expected': invalid regular expression*",
        tests__csv="name,__expected\nAda,contains: Ada\nBob,regex: (\n",
    ),
    _case(
        "prompt file that is not UTF-8",
        "prompts: [file://p.txt]\nproviders: [echo]\n",
        "p.txt: cannot read file: not UTF-8 text (invalid start byte at byte 6)",
        p__txt=b"Hello \xff\xfe",
    ),
    _case(
        "unknown provider id",
        'prompts: ["hi"]\nproviders:\n  - echo\n  - nope:thing\n',
        "suite.eval.yaml:4: providers[1]*'nope:thing'*",
    ),
    _case(
        "unknown provider id in a mapping",
        'prompts: ["hi"]\nproviders:\n  - id: nope:thing\n    label: x\n',
        "suite.eval.yaml:3: providers[0].id*'nope:thing'*",
    ),
    _case(
        "provider prompts filter naming no prompt",
        "prompts:\n  - {id: short, raw: hi}\n  - {id: long, raw: hello}\nproviders:\n"
        "  - id: echo\n    prompts: [short, lnog]\n",
        "suite.eval.yaml:6: providers[0].prompts[1]: no prompt has the id or label 'lnog'",
        "  hint: did you mean 'long'?",
    ),
    _case(
        "syntax error in a transform",
        HEAD + "tests:\n  - options:\n      transform: output.toUpperCase(\n",
        "suite.eval.yaml:5: tests[0].options.transform: invalid JavaScript (SyntaxError: Unexpected token '}'):"
        " 'output.toUpperCase('",
        "  hint: a transform is a JavaScript expression over output and context (JSON.parse(output)), a body with"
        " return, file://file.js[:function] or file://module.py:function (default function get_transform)",
    ),
    _case(
        "syntax error in a provider transform",
        'prompts: ["hi"]\nproviders:\n  - id: echo\n    transform: "return output +"\n',
        "suite.eval.yaml:4: providers[0].transform: invalid JavaScript (SyntaxError: Unexpected token*):"
        " 'return output +'",
        "  hint: a provider transform is a JavaScript expression*",
    ),
    _case(
        "syntax error in an assertion transform",
        HEAD + "tests:\n  - assert:\n      - {type: contains, value: x, transform: 'output[:'}\n",
        "suite.eval.yaml:5: tests[0].assert[0].transform: invalid JavaScript*'output[:'",
    ),
    _case(
        "syntax error in a python assertion",
        HEAD + "tests:\n  - assert:\n      - type: python\n        value: |\n          x = len(output)\n"
        "          return x >\n",
        "suite.eval.yaml:6: tests[0].assert[0].value: invalid Python (invalid syntax): 'x = len(output)\\n"
        "return x >'",
        "  hint: a python assertion is a Python expression over output and context, a body with return,"
        " or file://module.py:function (default function get_assert)",
    ),
    _case(
        "missing function in a python file",
        HEAD + "tests:\n  - assert:\n      - {type: python, value: 'file://checks.py:is_polite'}\n",
        "suite.eval.yaml:5: tests[0].assert[0].value: checks.py has no function 'is_polite'",
        checks__py="def is_short(output, context):\n    return len(output) < 10\n",
    ),
    _case(
        "missing default function in a python file",
        HEAD + "tests:\n  - options: {transform: 'file://checks.py'}\n",
        "suite.eval.yaml:4: tests[0].options.transform: checks.py has no function 'get_transform'",
        checks__py="def get_assert(output, context):\n    return True\n",
    ),
    _case(
        "missing python file",
        HEAD + "tests:\n  - assert:\n      - {type: python, value: 'file://checks.py'}\n",
        "suite.eval.yaml:5: tests[0].assert[0].value: file not found: checks.py (resolved to *checks.py)",
    ),
    _case(
        "python file that fails to import",
        HEAD + "tests:\n  - options: {transform: 'file://transform.py:clean'}\n",
        "suite.eval.yaml:4: tests[0].options.transform: importing transform.py raised ModuleNotFoundError:"
        " No module named 'not_installed'",
        transform__py="import not_installed\n\ndef clean(output, context):\n    return output\n",
    ),
    _case(
        "python file with a syntax error",
        HEAD + "tests:\n  - options: {transform: 'file://transform.py:clean'}\n",
        "suite.eval.yaml:4: tests[0].options.transform: importing transform.py raised SyntaxError:*",
        transform__py="def clean(output, context)\n    return output\n",
    ),
    _case(
        "promptfoo assertion shorthand without type",
        HEAD + "tests:\n  - assert:\n      - contains: hi\n",
        "suite.eval.yaml:5: tests[0].assert[0]: an assertion needs a 'type' (got 'contains' as a key)",
        "  hint: write it as: {type: contains, value: ...}",
    ),
    _case(
        "provider config of the wrong type",
        'prompts: ["hi"]\nproviders:\n  - id: echo\n    config: 5\n',
        "suite.eval.yaml:4: providers[0].config: expected a mapping, got 5",
    ),
    _case(
        "include in a prompt",
        "prompts: [\"hi {% include 'header.txt' %}\"]\nproviders: [echo]\n",
        "suite.eval.yaml:1: prompts[0]: prompt * template error on line 1: {% include %} is not supported: "
        "templates cannot read other templates; load the shared text as a var*",
    ),
    _case(
        "empty file:// reference",
        HEAD + "tests: 'file://'\n",
        "suite.eval.yaml:3: tests: 'file://' names no file: the path after file:// is empty",
        "  hint: write the path relative to this file's folder, such as file://cases.yaml",
    ),
    _case(
        "empty file:// reference for vars",
        HEAD + "tests:\n  - vars: 'file:// '\n",
        "suite.eval.yaml:4: tests[0].vars: 'file:// ' names no file: the path after file:// is empty",
        "  hint: write the path relative*",
    ),
    _case(
        "negative threshold",
        HEAD + "tests:\n  - threshold: -1\n    assert: [{type: equals, value: x}]\n",
        "suite.eval.yaml:4: tests[0].threshold: -1 is less than the minimum of 0",
        "  hint: a threshold is a number of 0 or more*",
    ),
    _case(
        "infinite assertion threshold",
        HEAD + "tests:\n  - assert: [{type: similar, value: x, threshold: .inf}]\n",
        "suite.eval.yaml:4: tests[0].assert[0].threshold: expected a finite number, got inf",
        "  hint: a threshold is a number of 0 or more*",
    ),
    _case(
        "NaN weight",
        HEAD + "tests:\n  - assert:\n      - {type: equals, value: x, weight: .nan}\n",
        "suite.eval.yaml:5: tests[0].assert[0].weight: expected a finite number, got nan",
        "  hint: a weight is a number of 0 or more*",
    ),
    _case(
        "NaN weight in defaultTest",
        HEAD + "defaultTest:\n  assert:\n    - {type: equals, value: x, weight: .nan}\n",
        "suite.eval.yaml:5: defaultTest.assert[0].weight: expected a finite number, got nan",
    ),
    _case(
        "provider prompt prefix that is not text",
        'prompts: ["hi"]\nproviders:\n  - id: replicate:meta/meta-llama-3-8b-instruct\n'
        "    config:\n      prompt: {prefix: 5}\n",
        "suite.eval.yaml:3: providers[0]: config.prompt.prefix must be text, got 5",
        "  hint: quote it: prefix: '5'",
    ),
    _case(
        "is-image with a bad size",
        HEAD + "tests:\n  - assert:\n      - type: is-image\n        value: {width: big}\n",
        "suite.eval.yaml:6: tests[0].assert[0].value: width must be a positive whole number of pixels, got 'big'",
    ),
    _case(
        "word-count with min above max",
        HEAD + "tests:\n  - assert:\n      - type: word-count\n        value: {min: 5, max: 2}\n",
        "suite.eval.yaml:6: tests[0].assert[0].value: min 5 is greater than max 2",
    ),
]


def _write(pytester: pytest.Pytester, name: str, content: str | bytes) -> None:
    path = pytester.path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")


# Problems inside one test: its cases are collected and fail with the message, as promptfoo errors
# only that test; every other problem fails the file.
CASE_PROBLEMS = {
    "schema error deep inside", "misspelled assertion type", "misspelled negated type", "negated assert-set",
    "nested assert outside an assert-set", "contains without value", "invalid regex", "word-count given text",
    "word-count given an unknown bound", "schema error inside a tests file", "contains-any given a mapping",
    "is-json given an invalid schema", "missing schema file", "schema file with invalid JSON", "missing vars file",
    "missing file as a var value", "vars file that is not a mapping", "CSV with a bad short-syntax assertion",
    "vars file with invalid JSON", "error inside a tests file", "syntax error in an assertion transform",
    "syntax error in a python assertion", "syntax error in a transform", "missing function in a python file",
    "missing default function in a python file", "python file that fails to import", "missing python file",
    "python file with a syntax error", "promptfoo assertion shorthand without type", "empty file:// reference for vars",
    "infinite assertion threshold", "negative threshold", "NaN weight", "is-image with a bad size",
    "word-count with min above max",
}


@pytest.mark.parametrize("case", BAD_INPUTS, ids=[case.id for case in BAD_INPUTS])
def test_bad_input_is_one_clear_message(pytester, write_eval, case):
    write_eval(case.eval_file)
    for name, content in case.other_files.items():
        _write(pytester, name, content)
    # --continue-on-collection-errors only for speed: without it pytest formats a traceback
    # for its "Interrupted" exit, which costs ~0.2 s a run (and is not shown).
    # test_continue_on_collection_errors_runs_the_good_files covers the default.
    result = pytester.runpytest("--continue-on-collection-errors")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    patterns = [line.replace("[", "[[]") for line in case.lines]
    if case.id in CASE_PROBLEMS:
        outcomes = result.parseoutcomes()
        assert outcomes.get("failed", 0) >= 1 and not outcomes.get("errors")  # the file's good tests pass
        result.stdout.fnmatch_lines(patterns)
        result.stdout.fnmatch_lines(["*replicate evals*", f"suite.eval.yaml: * passed *, {outcomes['failed']} error*"])
        shown = outcomes["failed"]  # each case of the test shows it once
    else:
        result.assert_outcomes(errors=1)
        result.stdout.fnmatch_lines(["*_ ERROR collecting suite.eval.yaml _*", *patterns])
        shown = 1
    assert len(fnmatch.filter(result.stdout.lines, patterns[0])) == shown
    assert_no_traceback(result)


# -- errors a case hits when it runs --------------------------------------------------------


def test_undefined_template_variable_fails_the_case(pytester, write_eval):
    write_eval(
        """
        prompts: ["Hello {{ nmae }}, welcome to {{ place }}"]
        providers: [echo]
        defaultTest:
          vars: {place: Paris}
        tests:
          - description: typo in the prompt
            vars: {name: Ada}
          - description: fine
            vars: {name: Ada, nmae: Ada}
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*_ typo in the prompt[[]*] (suite.eval.yaml:7) _*",
            "prompt 'Hello {{ nmae }}, welcome to {{ place }}' uses undefined variable 'nmae'"
            " (vars of this case: name, place); add it to the test's vars or to defaultTest.vars",
            "provider: echo",
            "vars:",
            "    place: Paris",
            "    name: Ada",
            "error:",
            "    prompt * uses undefined variable 'nmae'*",
        ]
    )
    assert_no_traceback(result)


def test_template_problems_in_assertion_values_fail_the_case(pytester, write_eval):
    write_eval(
        """
        prompts: ["Hello {{ name }}"]
        providers: [echo]
        tests:
          - description: undefined var in a value
            vars: {name: Ada}
            assert:
              - {type: contains, value: "{{ nam }}"}
          - description: wrong type in a value
            vars: {name: Ada, count: 3}
            assert:
              - {type: contains, value: "{{ name + count }}"}
          - description: invalid regex once rendered
            vars: {name: Ada, pattern: "("}
            assert:
              - {type: not-regex, value: "{{ pattern }}"}
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(failed=3)
    result.stdout.fnmatch_lines(
        [
            "*_ undefined var in a value*",
            "contains value uses undefined variable 'nam' (vars of this case: name); add it*",
            "provider: echo",
            "vars:",
            "    name: Ada",
            "prompt:",
            "    Hello Ada",
            "output:",
            "    Hello Ada",
            "error:",
            "*",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "*_ wrong type in a value*",
            "contains value could not be rendered: TypeError: can only concatenate str (not \"int\") to str",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "*_ invalid regex once rendered*",
            "regex value '(' is not a valid regular expression once vars are rendered: *",
        ]
    )
    assert_no_traceback(result)


def test_template_syntax_errors_fail_the_file_or_the_test(pytester, write_eval):
    write_eval('prompts: ["Hello {% if name %}{{ name }}"]\nproviders: [echo]\ntests:\n  - vars: {name: Ada}\n')
    write_eval('prompts: ["Hi"]\nproviders: [echo]\ntests:\n  - assert: [{type: icontains, value: "{{ x | nosuch }}"}]\n',
               "filter.eval.yaml")
    result = pytester.runpytest("--continue-on-collection-errors")
    result.assert_outcomes(errors=1, failed=1)  # a prompt's is the file's; an assertion's is its test's
    result.stdout.fnmatch_lines([
        "*_ ERROR collecting suite.eval.yaml _*",
        "suite.eval.yaml:1: prompts[[]0]: prompt 'Hello {% if name %}{{ name }}': template error on line 1: "
        "Unexpected end of template.*",
        "*_ default[[]Hi-echo] (filter.eval.yaml:4) _*",
        "filter.eval.yaml:4: tests[[]0].assert[[]0].value: template error on line 1: No filter named 'nosuch'.",
    ])
    assert_no_traceback(result)


# -- how collection errors sit with the rest of a run ---------------------------------------

GOOD = 'prompts: ["hi"]\nproviders: [echo]\ntests:\n  - assert: [{type: contains, value: hi}]\n'
BAD = 'prompts: ["hi"]\nproviders: [ecko]\ntests:\n  - assert: [{type: contains, value: hi}]\n'


def test_continue_on_collection_errors_runs_the_good_files(pytester, write_eval):
    write_eval(GOOD, "a_good.eval.yaml")
    write_eval(BAD, "b_bad.eval.yaml")
    write_eval(GOOD, "c_good.eval.yaml")

    stopped = pytester.runpytest()
    stopped.assert_outcomes(errors=1)
    assert stopped.ret == pytest.ExitCode.INTERRUPTED

    result = pytester.runpytest("--continue-on-collection-errors")
    result.assert_outcomes(passed=2, errors=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "*_ ERROR collecting b_bad.eval.yaml _*",
            "b_bad.eval.yaml:2: providers[[]0]: unknown provider id 'ecko'",
        ]
    )
    assert_no_traceback(result)


def test_a_bad_test_fails_its_cases_and_the_others_run(pytester, write_eval):
    # As in promptfoo, which errors such a test and runs the rest: no "Interrupted: 1 error during
    # collection", and every problem of the file in one run, not one per run.
    write_eval(
        """
        prompts: ["hi {{ name }}", "bye {{ name }}"]
        providers: [echo]
        tests:
          - description: fine
            vars: {name: Ada}
            assert: [{type: contains, value: Ada}]
          - description: two typos
            vars: {name: Bob}
            assert:
              - {type: contians, value: Bob}
              - {type: equals, value: x, wieght: 2}
          - description: missing file
            vars: {name: file://nope.txt}
          - description: also fine
            vars: {name: Cy}
        """
    )
    result = pytester.runpytest("--replicate-json=report.json")
    result.assert_outcomes(passed=4, failed=4)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines([
        "*_ two typos[[]hi {{ name }}-echo] (suite.eval.yaml:8) _*",
        "2 problems in tests[[]1] of suite.eval.yaml:",
        "  suite.eval.yaml:11: tests[[]1].assert[[]0].type: unknown assertion type 'contians'",
        "    hint: did you mean 'contains'?",
        "  suite.eval.yaml:12: tests[[]1].assert[[]1].wieght: unknown key 'wieght'",
        "    hint: did you mean 'weight'?",
    ])
    result.stdout.fnmatch_lines([
        "*_ missing file[[]bye {{ name }}-echo] (suite.eval.yaml:13) _*",
        "suite.eval.yaml:14: tests[[]2].vars.name: file not found: 'file://nope.txt' (looked for *nope.txt)",
    ])
    result.stdout.fnmatch_lines(["suite.eval.yaml: 4 of 8 passed (50%), 4 errors"])
    report = json.loads((pytester.path / "report.json").read_text())
    errors = {case["name"]: case["error"] for case in report["files"][0]["cases"] if case["error"]}
    assert sorted(errors) == ["missing file[bye {{ name }}-echo]", "missing file[hi {{ name }}-echo]",
                              "two typos[bye {{ name }}-echo]", "two typos[hi {{ name }}-echo]"]
    # The cases keep their usual node ids, so they can be selected and deselected.
    selected = pytester.runpytest("-k", "two and hi")
    selected.assert_outcomes(failed=1)
    assert_no_traceback(result)


def test_every_problem_of_a_file_is_in_its_one_error(pytester, write_eval):
    write_eval(
        """
        prompts: ["hi {% if x %}"]
        providers: [echo, ecko]
        defaultTest:
          assert: [{type: equals, valu: x}]
        tests:
          - assert: [{type: contians, value: Bob}]
        """
    )
    result = pytester.runpytest("--continue-on-collection-errors")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([
        "*_ ERROR collecting suite.eval.yaml _*",
        "4 problems in suite.eval.yaml:",
        "  suite.eval.yaml:2: prompts[[]0]: prompt 'hi {% if x %}': template error on line 1: *",
        "  suite.eval.yaml:3: providers[[]1]: unknown provider id 'ecko'",
        "    hint: *",
        "  suite.eval.yaml:5: defaultTest.assert[[]0].valu: unknown key 'valu'",
        "    hint: did you mean 'value'?",
        "  suite.eval.yaml:7: tests[[]0].assert[[]0].type: unknown assertion type 'contians'",
        "    hint: did you mean 'contains'?",
    ])
    assert_no_traceback(result)


def test_yaml_files_that_are_not_evals_are_ignored(pytester, write_eval):
    write_eval(GOOD)
    write_eval("key: [unclosed\n", "docker-compose.yml")
    write_eval("prompts: not really\n", "config/settings.yaml")
    write_eval("- just\n- a list\n", "data.yaml")
    result = pytester.runpytest()
    result.assert_outcomes(passed=1)
    assert "docker-compose" not in result.stdout.str()
    # Named on the command line, a YAML file without eval keys is not collected either.
    result = pytester.runpytest("data.yaml")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert_no_traceback(result)
