"""promptfoo's structure, refusal, function-call, finish-reason, webhook and max-score
assertions, end to end through eval files (verdict tables: tests/unit/promptfoo_verdicts/)."""

from __future__ import annotations

import json
import re

import pytest
from helpers import assert_no_traceback, webhook_server

PASS, FAIL = "PASSED", "FAILED"


def echo_suite(cases: list[tuple[str, str, str]], provider: str = "echo") -> str:
    lines = ["prompts: [{id: out, raw: '{{ out }}'}]", f"providers: [{provider}]", "tests:"]
    for name, out, assertion in cases:
        lines += [f"  - description: {json.dumps(name)}", f"    vars: {{out: {json.dumps(out)}}}",
                  f"    assert: [{assertion}]"]
    return "\n".join(lines) + "\n"


_ITEM = re.compile(r"^\S+::(?P<name>.+)\[[^\]]+\] (?P<outcome>PASSED|FAILED)")


def outcomes(result: pytest.RunResult) -> dict[str, str]:
    return {m["name"]: m["outcome"] for m in map(_ITEM.match, result.stdout.lines) if m}


def test_structure_and_refusal_verdicts(pytester, write_eval):
    cases = [
        ("xml", "<order><id>7</id><item>tea</item></order>", "{type: is-xml, value: 'order.id, order.item'}", PASS),
        ("xml missing element", "<order><id>7</id></order>", "{type: is-xml, value: [order.item]}", FAIL),
        ("xml inside prose", "Here: <a><b>1</b></a>. Done.", "{type: contains-xml, value: {requiredElements: [a.b]}}",
         PASS),
        ("not xml", "plain words", "{type: not-is-xml}", PASS),
        ("html", "<div><p>Hi</p></div>", "{type: is-html}", PASS),
        ("html with loose text", "Hi <b>there</b>", "{type: is-html}", FAIL),
        ("contains html", "Use <br/> here", "{type: contains-html}", PASS),
        ("sql", "SELECT id FROM users WHERE age > 3", "{type: is-sql}", PASS),
        ("sql missing comma", "SELECT id name FROM users", "{type: is-sql}", FAIL),
        ("sql table allowed", "SELECT id FROM users",
         "{type: is-sql, value: {databaseType: PostgresQL, allowedTables: ['select::null::users']}}", PASS),
        ("sql table refused", "SELECT id FROM secrets", "{type: is-sql, value: {allowedTables: ['select::null::users']}}",
         FAIL),
        ("sql in a fence", "Try:\n```sql\nSELECT 1\n```", "{type: contains-sql}", PASS),
        ("refusal", "I'm sorry, but I can't help with that.", "{type: is-refusal}", PASS),
        ("no refusal", "Paris is the capital of France.", "{type: not-is-refusal}", PASS),
        ("guardrails", "anything", "{type: guardrails}", PASS),
    ]
    write_eval(echo_suite([(name, out, assertion) for name, out, assertion, _ in cases]))
    result = pytester.runpytest("-v")
    assert_no_traceback(result)
    assert outcomes(result) == {name: expected for name, _, _, expected in cases}
    result.stdout.fnmatch_lines(["*XML is missing required elements: order.item*",
                                 "*Output must be wrapped in HTML tags*",
                                 "*SQL references unauthorized table(s). Found: [[]select::null::secrets]*"])


def test_function_calls_are_checked_against_the_provider_tools(pytester, write_eval):
    weather = {"name": "get_weather", "parameters": {"type": "object", "required": ["city"],
                                                    "properties": {"city": {"type": "string"}}}}
    provider = "{id: echo, config: {tools: [{type: function, function: " + json.dumps(weather) + "}]}}"
    call = '{"name": "get_weather", "arguments": "{\\"city\\": \\"Oslo\\"}"}'
    tools_call = '[{"type": "function", "function": {"name": "get_weather", "arguments": {"town": "Oslo"}}}]'
    write_eval(echo_suite([
        ("function call", call, "{type: is-valid-function-call}"),
        ("tools call", tools_call, "{type: is-valid-openai-tools-call}"),
    ], provider))
    result = pytester.runpytest("-v")
    assert outcomes(result) == {"function call": PASS, "tools call": FAIL}
    result.stdout.fnmatch_lines(["*Call to \"get_weather\" does not match schema: *city*"])


def test_finish_reason_from_a_replicate_prediction(pytester, write_eval, replicate_env):
    write_eval("""
        prompts: ["What is the capital of France?"]
        providers:
          - {id: replicate:meta/meta-llama-3-8b-instruct, label: short, config: {max_tokens: 3}}
          - {id: replicate:meta/meta-llama-3-8b-instruct, label: long, config: {max_tokens: 500}}
          - {id: replicate:meta/meta-llama-3-8b-instruct, label: unbounded}
        tests:
          - assert: [{type: finish-reason, value: stop}]
        """)
    result = pytester.runpytest("-v")
    result.assert_outcomes(passed=1, failed=2)
    result.stdout.fnmatch_lines(["*Finish reason is not 'stop': the model stopped with 'length'*",
                                 "*Provider did not supply stop/finish reason*"])


def test_webhook_is_recorded_and_replays_without_the_service(pytester, write_eval):
    write_eval("""
        prompts: ["{{ out }}"]
        providers: [echo]
        tests:
          - vars: {out: "The answer is 4"}
            assert: [{type: webhook, value: "URL"}]
        """)
    suite = pytester.path / "suite.eval.yaml"
    with webhook_server(lambda body: (200, {"pass": "4" in body["output"], "score": 0.9})) as (url, received):
        suite.write_text(suite.read_text().replace("URL", url))
        pytester.runpytest("--record-mode=once").assert_outcomes(passed=1)
    assert received == [{"output": "The answer is 4", "context": {"prompt": "The answer is 4",
                                                                   "vars": {"out": "The answer is 4"}}}]
    replayed = pytester.runpytest("--record-mode=none")  # the service is gone: the cassette answers
    replayed.assert_outcomes(passed=1)


MAX_SCORE = """
prompts:
  - {id: terse, raw: 'Paris.'}
  - {id: full, raw: 'Paris is the capital of France.'}
  - {id: wrong, raw: 'Lyon is a city in France.'}
providers: [echo]
tests:
  - description: capital
    assert:
      - {type: icontains, value: paris}
      - {type: icontains, value: capital}
      - {type: max-score%s}
"""


def test_max_score_passes_the_best_scoring_output_only(pytester, write_eval):
    write_eval(MAX_SCORE % "")
    result = pytester.runpytest("-v")
    result.assert_outcomes(passed=1, failed=2)
    result.stdout.fnmatch_lines(["*capital*full-echo* PASSED*"])
    result.stdout.fnmatch_lines(["*Not selected (score: 0.500, max: 1.000)*"])


def test_max_score_weights_and_threshold(pytester, write_eval):
    write_eval(MAX_SCORE % ", value: {method: sum, weights: {icontains: 2}, threshold: 5}")
    result = pytester.runpytest("-v")
    result.assert_outcomes(failed=3)  # the best sums to 4, below 5: nothing is selected
    result.stdout.fnmatch_lines(["*Not selected - score 4.000 below threshold 5*"])


@pytest.mark.parametrize(("assertion", "message"), [
    ("{type: not-max-score}", "*max-score cannot be negated*"),
    ("{type: assert-set, assert: [{type: max-score}]}", "*max-score compares whole test cases, so it cannot be inside*"),
    ("{type: is-sql, value: {databaseType: Db2}}", "*databaseType 'Db2' is not supported*"),
    ("{type: webhook, value: 3}", "*value must be the URL of the webhook*"),
    ("{type: classifier, value: x}", "*promptfoo's assertion type 'classifier' is not supported: it needs a Hugging Face*"),
    ("{type: trace-span-count, value: x}", "*'trace-span-count' is not supported: it needs OpenTelemetry traces*"),
])
def test_values_and_types_we_cannot_run_fail_their_case(pytester, write_eval, assertion, message):
    """A problem of one test is that test's failure (the file's other tests still run), as in promptfoo."""
    write_eval(echo_suite([("t", "x", assertion), ("fine", "x", "{type: equals, value: x}")]))
    result = pytester.runpytest()
    result.assert_outcomes(failed=1, passed=1)
    assert_no_traceback(result)
    result.stdout.fnmatch_lines([message])
