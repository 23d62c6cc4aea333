"""Every test and option form promptfoo 0.123.1 reads, run through the echo provider (whose output is the prompt)."""

from __future__ import annotations

import json

from helpers import assert_no_traceback, write


def _report(pytester) -> dict:
    return json.loads((pytester.path / "r.json").read_text())


def test_tests_files_in_every_format(pytester, write_eval):
    write(pytester, "cases.json", '[{"vars": {"x": "j1"}}, {"vars": {"x": "j2"}, "description": "named"}]')
    write(pytester, "more/a.jsonl", '{"vars": {"x": "l1"}, "assert": [{"type": "contains", "value": "l1"}]}\n\n'
                                    '{"vars": {"x": "l2"}}\n')
    write(pytester, "more/b.yaml", "vars: {x: y1}\nassert: [{type: contains, value: y1}]\n")  # one test, not a list
    write_eval(
        """
        prompts: ["Say {{ x }}"]
        providers: [echo]
        tests:
          - file://cases.json
          - file://more/*
        """
    )
    result = pytester.runpytest("-v")
    result.assert_outcomes(passed=5)
    result.stdout.fnmatch_lines(["*::x=j1[[]Say*", "*::named[[]Say*", "*::x=l1[[]Say*", "*::x=l2[[]Say*",
                                 "*::x=y1[[]Say*"])


def test_a_json_file_named_alone_names_its_rows_as_promptfoo_does(pytester, write_eval):
    write(pytester, "cases.json", '[{"vars": {"x": "a"}}, {"vars": {"x": "b"}}]')
    write_eval(
        """
        prompts: ["Say {{ x }}"]
        providers: [echo]
        tests: file://cases.json
        """
    )
    result = pytester.runpytest("-v")
    result.stdout.fnmatch_lines(["*::Row #1[[]Say*PASSED*", "*::Row #2[[]Say*PASSED*"])


def test_test_generators_with_and_without_config(pytester, write_eval):
    write(
        pytester,
        "gen.py",
        """
        def generate_tests(config=None):
            return [{"vars": {"x": "plain"}}]

        def many(config):
            return [{"vars": {"x": f"n{i}"}, "assert": [{"type": "contains", "value": f"n{i}"}]}
                    for i in range(config["count"])]

        def broken():
            raise ValueError("no data")
        """,
    )
    write_eval(
        """
        prompts: ["Say {{ x }}"]
        providers: [echo]
        tests:
          - file://gen.py
          - path: file://gen.py:many
            config: {count: 3}
        """
    )
    result = pytester.runpytest("-q")
    result.assert_outcomes(passed=4)
    write_eval(
        """
        prompts: ["Say {{ x }}"]
        providers: [echo]
        tests: file://gen.py:broken
        """
    )
    result = pytester.runpytest("-q")
    result.stdout.fnmatch_lines(["*suite.eval.yaml:*: tests: test generator file://gen.py:broken raised ValueError: no data*"])
    assert_no_traceback(result)


def test_default_test_from_a_file_and_options(pytester, write_eval):
    write(pytester, "default.yaml", "vars: {who: all}\nassert: [{type: contains, value: all}]\n")
    write(pytester, "tv.py", "def get_transform(vars, context):\n    return {'loud': vars['x'].upper()}\n")
    write_eval(
        """
        prompts: ["{{ x }} {{ who }} {{ loud }}"]
        providers: [echo]
        defaultTest: file://default.yaml
        tests:
          - vars: {x: a}
            options: {transformVars: file://tv.py}
            assert: [{type: equals, value: a all A}]
          - vars: {x: b, loud: ""}
            options: {disableDefaultAsserts: true}
            assert: [{type: not-contains, value: missing}]
          - vars: {x: [c, d], loud: ""}
            options: {disableVarExpansion: true}
            assert: [{type: contains, value: "c,d"}]
        """
    )
    result = pytester.runpytest("-q")
    result.assert_outcomes(passed=3)


def test_provider_output_test_provider_and_filters(pytester, write_eval):
    write_eval(
        """
        prompts:
          - {raw: "P1 {{ x }}", label: one}
          - {raw: "P2 {{ x }}", label: two}
        providers: [{id: echo, label: first}, {id: echo, label: second}]
        tests:
          - vars: {x: canned}
            providerOutput: "given answer"
            assert: [{type: equals, value: given answer}]
          - vars: {x: filtered}
            prompts: [two]
            providers: [sec*]
          - vars: {x: own}
            provider: {id: echo, label: mine}
            prompts: [one]
        """
    )
    result = pytester.runpytest("-v")
    result.assert_outcomes(passed=7)
    result.stdout.fnmatch_lines(["*::x=filtered[[]two-second[]] PASSED*"])


def test_store_output_as_feeds_later_tests(pytester, write_eval):
    write_eval(
        """
        prompts: ["{{ q }}"]
        providers: [echo]
        tests:
          - vars: {q: first answer}
            options: {storeOutputAs: earlier}
          - vars: {q: "follow-up to {{ earlier }}"}
            assert: [{type: equals, value: follow-up to first answer}]
        """
    )
    result = pytester.runpytest("-q", "-p", "no:randomly")
    result.assert_outcomes(passed=2)


def test_scenarios_refs_and_ignored_keys(pytester, write_eval):
    write_eval(
        """
        description: promptfoo example
        tags: {team: evals}
        sharing: false
        writeLatestResults: true
        outputPath: out.json
        evaluateOptions: {maxConcurrency: 2}
        commandLineOptions: {verbose: true}
        tracing: {enabled: false}
        metadata: {owner: me}
        assertionTemplates:
          mentionsCity: {type: icontains, value: "{{ city }}"}
        prompts: ["Weather in {{ city }} for {{ who }}"]
        providers: [{id: echo, inputs: {}}]
        scenarios:
          - description: cities
            config:
              - vars: {city: Paris}
              - vars: {city: Rome}
            tests:
              - vars: {who: Ann}
                assert: [{$ref: "#/assertionTemplates/mentionsCity"}]
              - vars: {who: Bob}
                options: {runSerially: true, disableConversationVar: true}
                assert: [{$ref: "#/assertionTemplates/mentionsCity", metric: city}]
        """
    )
    result = pytester.runpytest("-v")
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(["*city=Paris, who=Ann*PASSED*", "*city=Rome, who=Bob*PASSED*"])


def test_derived_metrics_and_a_scoring_function(pytester, write_eval):
    write(
        pytester,
        "scoring.py",
        """
        def lenient(named_scores, context):
            passed = sum(1 for result in context["componentResults"] if result["pass"])
            return {"pass": passed >= 1, "score": passed / 2, "reason": f"{passed} of 2 passed"}
        """,
    )
    write_eval(
        """
        prompts: ["{{ x }}"]
        providers: [echo]
        derivedMetrics:
          - {name: hit_rate, value: "hits / __count"}
          - {name: doubled, value: "hit_rate * 2"}
        tests:
          - vars: {x: yes}
            assert: [{type: contains, value: yes, metric: hits}]
          - vars: {x: no}
            assert: [{type: contains, value: yes, metric: hits}]
          - vars: {x: half}
            assertScoringFunction: file://scoring.py:lenient
            assert:
              - {type: contains, value: half}
              - {type: contains, value: whole}
        """
    )
    result = pytester.runpytest("--replicate-json=r.json", "-q")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*suite.eval.yaml: 2 of 3 passed*hits 0.50, hit_rate 0.33,*", "*doubled 0.67*"])
    metrics = _report(pytester)["files"][0]["figures"]["metrics"]
    assert metrics["hit_rate"]["mean"] == 1 / 3 and metrics["hit_rate"]["derived"]
    case = next(case for case in _report(pytester)["files"][0]["cases"] if case["vars"]["x"] == "half")
    assert (case["passed"], case["score"], case["reason"]) == (True, 0.5, "1 of 2 passed")


def test_nunjucks_filters_from_python(pytester, write_eval):
    write(pytester, "filters.py", "def shout(value, end='!'):\n    return str(value).upper() + end\n")
    write_eval(
        """
        prompts: ["{{ x | shout }} {{ x | shout('?') }}"]
        providers: [echo]
        nunjucksFilters:
          shout: file://filters.py:shout
        tests:
          - vars: {x: hi}
            assert: [{type: equals, value: "HI! HI?"}]
        """
    )
    result = pytester.runpytest("-q")
    result.assert_outcomes(passed=1)


def test_refused_promptfoo_keys_say_why(pytester, write_eval):
    write_eval(
        """
        prompts: [hi]
        providers: [echo]
        redteam: {purpose: x}
        """
    )
    result = pytester.runpytest()
    result.stdout.fnmatch_lines(["*suite.eval.yaml:4: redteam: promptfoo's redteam is not supported: *"])
    assert "unknown key" not in result.stdout.str()
    assert_no_traceback(result)


def test_a_generated_test_with_a_problem_fails_alone(pytester, write_eval):
    write(pytester, "gen.py", "def generate_tests():\n    return [{'vars': {'x': 'ok'}}, "
                              "{'vars': {'x': 'bad'}, 'assert': [{'type': 'no-such-type'}]}]\n")
    write_eval(
        """
        prompts: ["{{ x }}"]
        providers: [echo]
        tests: file://gen.py
        """
    )
    result = pytester.runpytest("-q")
    result.assert_outcomes(passed=1, failed=1)
    assert_no_traceback(result)


def test_a_problem_in_a_scenario_fails_only_the_tests_it_is_part_of(pytester, write_eval):
    write_eval(
        """
        prompts: ["{{ a }} {{ b }}"]
        providers: [echo]
        scenarios:
          - config:
              - vars: {a: 1}
              - vars: {a: 2}
                threshold: high
            tests:
              - vars: {b: x}
              - vars: {b: y}
                assert: [{type: no-such-type}]
        """
    )
    result = pytester.runpytest("-rA", "-p", "no:randomly")
    result.assert_outcomes(passed=1, failed=3)
    result.stdout.fnmatch_lines(["PASSED *a=1, b=x*"])
    assert_no_traceback(result)


def test_refs_in_a_tests_file(pytester, write_eval):
    write(pytester, "cases.yaml", """
        - vars: {x: one}
          assert: [{$ref: "shared.yaml#/check"}]
        """)
    write(pytester, "shared.yaml", "check: {type: contains, value: one}\n")
    write_eval(
        """
        prompts: ["{{ x }}"]
        providers: [echo]
        tests: file://cases.yaml
        """
    )
    result = pytester.runpytest("-q")
    result.assert_outcomes(passed=1)


def test_scenarios_from_a_file(pytester, write_eval):
    write(pytester, "scenarios.yaml", """
        - config: [{vars: {a: one}}, {vars: {a: two}}]
          tests: [{vars: {b: x}, assert: [{type: contains, value: x}]}]
        """)
    write_eval(
        """
        prompts: ["{{ a }} {{ b }}"]
        providers: [echo]
        scenarios: [file://scenarios.yaml]
        """
    )
    result = pytester.runpytest("-q")
    result.assert_outcomes(passed=2)


def test_remote_prompts_and_tests_are_refused_saying_so(pytester, write_eval):
    write(pytester, "sheet.xlsx", b"PK\x03\x04")
    write_eval(
        """
        prompts: ["langfuse://my-prompt", "exec:./make_prompt.sh"]
        providers: [echo]
        tests: [huggingface://datasets/x/y, file://sheet.xlsx]
        """
    )
    result = pytester.runpytest()
    result.stdout.fnmatch_lines([
        "*prompts[[]0[]]: promptfoo's Langfuse prompts are not supported*",
        "*prompts[[]1[]]: promptfoo's executable prompts are not supported*",
        "*tests[[]0[]]: promptfoo's Hugging Face dataset tests are not supported*",
        "*sheet.xlsx: promptfoo's Excel tests files are not supported*",
    ])
    assert_no_traceback(result)


def test_store_output_as_under_xdist_with_loadfile(pytester, write_eval):
    write_eval(
        """
        prompts: ["{{ q }}"]
        providers: [echo]
        tests:
          - vars: {q: first answer}
            options: {storeOutputAs: earlier}
          - vars: {q: "then {{ earlier }}"}
            assert: [{type: equals, value: then first answer}]
          - vars: {q: "and {{ earlier }}"}
            assert: [{type: equals, value: and first answer}]
        """
    )
    result = pytester.runpytest("-p", "xdist", "-n", "2", "--dist", "loadfile")
    result.assert_outcomes(passed=3)


def test_tests_named_by_plain_paths_and_globs(pytester, write_eval):
    write(pytester, "cases/a.yaml", "- vars: {x: a}\n")
    write(pytester, "cases/b.yaml", "- vars: {x: b}\n")
    write(pytester, "gen.py", "def generate_tests():\n    return [{'vars': {'x': 'g'}}]\n")
    write_eval(
        """
        prompts: ["{{ x }}"]
        providers: [echo]
        tests: [cases/*.yaml, gen.py]
        """
    )
    result = pytester.runpytest("-q")
    result.assert_outcomes(passed=3)


def test_a_filter_name_two_files_give_different_functions_is_refused(pytester, write_eval):
    """Filters are the session's and templates render after collection: one name, one function."""
    write(pytester, "a/filters.py", "def tag(value):\n    return 'A-' + str(value)\n")
    write(pytester, "b/filters.py", "def tag(value):\n    return 'B-' + str(value)\n")
    for folder in ("a", "b"):
        write(pytester, f"{folder}/x.eval.yaml", """
            prompts: ["{{ x | tag }}"]
            providers: [echo]
            nunjucksFilters: {tag: file://filters.py:tag}
            tests: [{vars: {x: 1}}]
            """)
    result = pytester.runpytest("a", "b")
    result.assert_outcomes(errors=1)  # a file's problem: a collection error, as for any bad nunjucksFilters
    result.stdout.fnmatch_lines(["*nunjucksFilters.tag: the filter 'tag' is already */a/filters.py:tag in another "
                                 "eval file of this session*"])
