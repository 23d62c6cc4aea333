"""Configs run as promptfoo 0.123.1 runs them: YAML 1.2 scalars, var rules, CSV tests.

Each expected value was checked against promptfoo 0.123.1 (echo provider) on the same
config; where we differ on purpose, the test says so.
"""

from __future__ import annotations

import pytest
from helpers import write


def clean(result: pytest.RunResult) -> None:
    output = result.stdout.str() + result.stderr.str()
    assert "Traceback" not in output and "pytest_replicate/" not in output


# -- YAML 1.2 -------------------------------------------------------------------------------


def test_yaml_1_1_booleans_octals_and_sexagesimals_stay_as_promptfoo_reads_them(pytester, write_eval):
    write_eval(
        """
        prompts: ["{{ a }} {{ b }} {{ c }} {{ d }} {{ e }} {{ f }} {{ g }} {{ h }}"]
        providers: [echo]
        tests:
          - vars: {a: yes, b: NO, c: on, d: 010, e: 1_000, f: 12:30, g: 2024-01-02, h: 1.0}
            assert:
              - {type: equals, value: "yes NO on 10 1_000 12:30 2024-01-02 1"}
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=1)


def test_yes_in_a_tests_file_and_a_vars_file(pytester, write_eval):
    write(pytester, "tests.yaml", "- vars: {answer: yes}\n  assert: [{type: equals, value: 'yes off'}]\n"
                                  "- vars: file://vars.yaml\n  assert: [{type: equals, value: 'on off'}]\n")
    write(pytester, "vars.yaml", "answer: on\n")
    write_eval(
        """
        prompts: ["{{ answer }} {{ flag }}"]
        providers: [echo]
        defaultTest: {vars: {flag: off}}
        tests: file://tests.yaml
        """
    )
    pytester.runpytest().assert_outcomes(passed=2)


# -- vars -----------------------------------------------------------------------------------


def test_var_values_are_templates_rendered_with_the_other_vars(pytester, write_eval):
    # promptfoo 0.123.1 renders this prompt as "hi yes and G10 | {{ missing }}".
    write_eval(
        """
        prompts: ["{{ t }} | {{ u }}"]
        providers: [echo]
        tests:
          - vars:
              t: "hi {{ y }} and {{ g | upper }}"
              g: "g{{ n }}"
              y: yes
              n: 10
              u: "{{ missing }}"
            assert:
              - {type: equals, value: "hi yes and G10 | {{ '{{' }} missing }}"}
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=1)
    clean(result)


def test_only_lists_of_strings_expand(pytester, write_eval):
    # promptfoo's generateVarCombinations: a list expands when its first item is a string.
    write_eval(
        """
        prompts: ["{{ word }}|{{ nums | length }}|{{ chat | length }}|{{ empty | length }}"]
        providers: [echo]
        tests:
          - vars:
              word: [a, b, "1"]
              nums: [1, 2, 3]
              chat: [{role: user, content: hi}, {role: assistant, content: hello}]
              empty: []
            assert:
              - {type: regex, value: "^(a|b|1)\\\\|3\\\\|2\\\\|0$"}
        """
    )
    result = pytester.runpytest("-v")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(["*word=a, nums=*", "*word=b, nums=*", "*word=1, nums=*"])


def test_mixed_list_starting_with_a_string_expands(pytester, write_eval):
    write_eval(
        """
        prompts: ["{{ x }}"]
        providers: [echo]
        tests:
          - description: mixed
            vars: {x: ["a", 1]}
        """
    )
    result = pytester.runpytest("-v")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*mixed (x=a)*PASSED*", "*mixed (x=1)*PASSED*"])


def test_an_empty_list_is_one_case_not_zero(pytester, write_eval):
    write_eval(
        """
        prompts: ["n={{ items | length }}"]
        providers: [echo]
        tests:
          - vars: {items: []}
            assert: [{type: equals, value: "n=0"}]
        """
    )
    pytester.runpytest().assert_outcomes(passed=1)


def test_file_vars_are_trimmed_and_strings_lose_one_trailing_newline(pytester, write_eval):
    write(pytester, "f.txt", "  hello file  \n\n")
    write(pytester, "data.yaml", "a: 1\nb: [x, y]\n")
    write_eval(
        """
        prompts: ["[{{ f }}] [{{ s }}] [{{ d }}]"]
        providers: [echo]
        tests:
          - vars:
              f: file://f.txt
              s: "line\\n\\n"
              d: file://data.yaml
            assert:
              - {type: equals, value: "[hello file] [line\\n] [{\\"a\\":1,\\"b\\":[\\"x\\",\\"y\\"]}]"}
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=1)


def test_a_file_glob_var_is_one_case_per_file(pytester, write_eval):
    write(pytester, "docs/a.txt", "alpha\n")
    write(pytester, "docs/b.txt", "beta\n")
    write_eval(
        """
        prompts: ["{{ doc }}"]
        providers: [echo]
        tests:
          - description: docs
            vars: {doc: "file://docs/*.txt"}
            assert: [{type: regex, value: "^(alpha|beta)$"}]
        """
    )
    result = pytester.runpytest("-v")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*docs (doc=alpha)*PASSED*", "*docs (doc=beta)*PASSED*"])


def test_python_var_calls_get_var_and_uses_its_output(pytester, write_eval):
    write(
        pytester,
        "context.py",
        """
        def get_var(var_name, prompt, other_vars):
            return {"output": f"  {var_name}:{other_vars['city']}:{prompt}  \\n"}
        """,
    )
    write_eval(
        """
        prompts: ["<{{ ctx }}>"]
        providers: [echo]
        tests:
          - vars: {city: Paris, ctx: file://context.py}
            assert: [{type: equals, value: "<ctx:Paris:<{{ '{{' }} ctx }}>>"}]
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=1)


def test_python_var_errors_name_the_test_and_the_var(pytester, write_eval):
    write(pytester, "bad.py", "def get_var(var_name, prompt, other_vars):\n    return {'error': 'no database'}\n")
    write_eval(
        """
        prompts: ["{{ ctx }}"]
        providers: [echo]
        tests:
          - vars: {ctx: file://bad.py}
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)  # the case whose var cannot be made fails, the others would run
    result.stdout.fnmatch_lines(["suite.eval.yaml:5: tests[[]0].vars.ctx: file://bad.py: get_var returned an error: no database"])
    clean(result)


# -- prompts --------------------------------------------------------------------------------


def test_a_prompt_that_parses_as_json_is_sent_re_serialised_as_promptfoo_sends_it(pytester, write_eval):
    # promptfoo renders each string of a JSON prompt and sends JSON.stringify(prompt, null, 2),
    # which the echo provider answers with (checked with promptfoo 0.123.1).
    write_eval(
        r"""
        prompts: ['[{"role": "user", "content": "Say {{ q }}"}]']
        providers: [echo]
        tests:
          - vars: {q: 'he said "hi"'}
            assert:
              - type: equals
                value: |-
                  [
                    {
                      "role": "user",
                      "content": "Say he said \"hi\""
                    }
                  ]
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=1)


# -- CSV ------------------------------------------------------------------------------------


def test_csv_headers_and_expected_cells_are_trimmed_and_levenshtein_defaults_to_0_75(pytester, write_eval):
    # promptfoo 0.123.1 on this file: row 1 fails ("Levenshtein distance 1 is greater than
    # threshold 0.75"), row 2 passes.
    write(pytester, "t.csv", ' q ,__expected1, __expected2 \nhello,levenshtein: hellp ,  contains:  hel  \n'
                             'hello,"levenshtein(1):hellp",starts-with:hel\n')
    write_eval("prompts: ['{{ q }}']\nproviders: [echo]\ntests: file://t.csv\n")
    result = pytester.runpytest("-v")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*Levenshtein distance 1 (at most 0.75 allowed)*"])
