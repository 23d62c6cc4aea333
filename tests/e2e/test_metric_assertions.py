"""Metric assertions end to end: rouge-n, bleu, gleu, latency and cost through eval files.

The echo table's verdicts and scores are promptfoo 0.123.1's: the same config, run with
``promptfoo eval`` (node 22, echo provider), passed and failed the same tests, with the
reasons quoted below. latency and cost against Replicate use the simulator, then replay
the cassettes offline to show the verdict does not depend on how fast the replay is.
"""

from __future__ import annotations

import json
import re

import pytest

PASS, FAIL = "PASSED", "FAILED"

# (description, echo output, assertion as YAML flow mapping, expected outcome, a failure line)
ECHO_CASES = [
    ("bleu passes", "The capital of France is Paris",
     '{type: bleu, value: "Paris is the capital of France"}', PASS, None),
    ("bleu fails", "the cat sat", '{type: bleu, value: "the cat sat on the mat"}', FAIL,
     "*BLEU score 0.3679 is less than threshold 0.5*"),
    ("bleu threshold", "the cat sat", '{type: bleu, value: "the cat sat on the mat", threshold: 0.3}', PASS, None),
    ("bleu references", "the cat is on the mat",
     '{type: bleu, value: ["the cat sat on the mat", "there is a cat on the mat"]}', FAIL,
     "*BLEU score 0.0106 is less than threshold 0.5*"),
    ("not-bleu", "a dog ran away quickly", '{type: not-bleu, value: "the cat sat on the mat"}', PASS, None),
    ("gleu passes", "the cat sat on a mat.", '{type: gleu, value: ["the cat sat on the mat", "a cat sat on a mat"]}',
     PASS, None),
    ("gleu fails", "the cat", '{type: gleu, value: "the cat sat on the mat"}', FAIL,
     "*GLEU score 0.1667 is less than threshold 0.5*"),
    ("not-gleu", "the cat sat", '{type: not-gleu, value: "The cat sat."}', FAIL,
     "*GLEU score 1.0000 is greater than or equal to threshold 0.5*"),
    ("rouge passes", "the cat is on the mat", '{type: rouge-n, value: "The cat sat on the mat."}', PASS, None),
    ("rouge threshold", "the cat is on the mat", '{type: rouge-n, value: "The cat sat on the mat.", threshold: 0.8}',
     FAIL, "*ROUGE-N score 0.77 is less than threshold 0.8*"),
    ("not-rouge", "the cat is on the mat", '{type: not-rouge-n, value: "The cat sat on the mat."}', FAIL,
     "*ROUGE-N score 0.77 is greater than or equal to threshold 0.75*"),
    ("rouge renders vars", "Anything At All", '{type: rouge-n, value: "{{ out }}"}', PASS, None),
    ("latency", "x", "{type: latency, threshold: 1000}", PASS, None),
    ("not-latency", "x", "{type: not-latency, threshold: 1000}", FAIL,
     "*latency 0 ms is at most the threshold of 1000 ms (as the provider reported it)*"),
    ("cost", "x", "{type: cost, threshold: 0}", PASS, None),  # echo is free, as in promptfoo
    ("not-cost", "x", "{type: not-cost, threshold: 0.01}", FAIL, "*cost $0 is at most the threshold of $0.01*"),
]
_ITEM = re.compile(r"^\S+::(?P<name>.+)\[out-echo\] (?P<outcome>PASSED|FAILED)")


def echo_suite(cases: list[tuple[str, str, str]], extra: str = "") -> str:
    lines = ["prompts: [{id: out, raw: '{{ out }}'}]", "providers: [echo]", "tests:"]
    for name, out, assertion in cases:
        lines += [f"  - description: {json.dumps(name)}", f"    vars: {{out: {json.dumps(out)}}}",
                  f"    assert: [{assertion}]"]
    return "\n".join(lines) + "\n" + extra


def outcomes(result: pytest.RunResult) -> dict[str, str]:
    return {m["name"]: m["outcome"] for m in map(_ITEM.match, result.stdout.lines) if m}


def test_echo_verdicts_match_promptfoo(pytester, write_eval):
    write_eval(echo_suite([case[:3] for case in ECHO_CASES]))
    result = pytester.runpytest("-v")
    assert outcomes(result) == {name: expect for name, _, _, expect, _ in ECHO_CASES}
    result.stdout.fnmatch_lines_random([line for *_, line in ECHO_CASES if line])


def test_negated_metric_scores_one_minus_the_score(pytester, write_eval):
    """promptfoo scores not-rouge-n 1 - 0.769 = 0.231, so a test threshold of 0.2 is met."""
    write_eval(echo_suite([]) + "".join(
        f"  - description: threshold {threshold}\n    vars: {{out: the cat is on the mat}}\n"
        f"    threshold: {threshold}\n    assert: [{{type: not-rouge-n, value: The cat sat on the mat.}}]\n"
        for threshold in (0.2, 0.3)))
    result = pytester.runpytest("-v")
    assert outcomes(result) == {"threshold 0.2": PASS, "threshold 0.3": FAIL}
    result.stdout.fnmatch_lines(["*weighted score 0.23 < threshold 0.3*"])


def test_csv_short_syntax(pytester, write_eval):
    (pytester.path / "cases.csv").write_text(
        "out,__expected1,__expected2\n"
        '"The capital of France is Paris","bleu(0.5): Paris is the capital of France",latency(500)\n'
        '"the cat sat","gleu: the cat sat on the mat",cost(0)\n'
    )
    write_eval("prompts: ['{{ out }}']\nproviders: [echo]\ntests: file://cases.csv\n")
    result = pytester.runpytest("-v")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*GLEU score 0.3333 is less than threshold 0.5*"])


@pytest.mark.parametrize("assertion, message, hint", [
    ("{type: latency}", "tests[0].assert[0]: latency needs a threshold",
     "hint: add 'threshold:' (in milliseconds) to this latency assertion"),
    ("{type: not-cost}", "tests[0].assert[0]: not-cost needs a threshold",
     "hint: add 'threshold:' (in dollars) to this not-cost assertion"),
    ("{type: rouge-n, value: [a, b]}", "tests[0].assert[0].value: value must be one reference text (a string)", None),
    ("{type: bleu, value: []}", "tests[0].assert[0].value: value must be a reference text or a non-empty list*", None),
    ("{type: perplexity, threshold: 10}",
     "tests[0].assert[0].type: promptfoo's assertion type 'perplexity' is not supported: it needs the "
     "log-probabilities of the output tokens, which neither Replicate predictions nor the echo*", None),
    ("{type: not-perplexity-score}", "*'not-perplexity-score' is not supported: it needs the log-probabilities*", None),
    ("{type: meteor, value: x}", "*'meteor' is not supported: promptfoo 0.123.1's own meteor fails on every input*",
     None),
])
def test_collection_errors(pytester, write_eval, assertion, message, hint):
    write_eval(echo_suite([("t", "x", assertion)]))
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)  # the test's case fails with the problem
    message = message.replace("[", "[[]")  # fnmatch reads [0] as a character class
    result.stdout.fnmatch_lines([f"suite.eval.yaml:*: {message}"] + ([f"  {hint}"] if hint else []))


# --- Replicate: figures recorded with the prediction -----------------------------------------

LLAMA3 = "replicate:meta/meta-llama-3-8b-instruct"


def replicate_suite(config: str, asserts: list[str]) -> str:
    tests = "".join(f"  - description: {json.dumps(a)}\n    assert: [{a}]\n" for a in asserts)
    return (f"prompts: [{{id: q, raw: 'Name the capital of France.'}}]\nproviders:\n  - id: {LLAMA3}\n"
            f"    config: {{poll_interval: 0.01, {config}}}\ntests:\n{tests}")


def replicate_outcomes(result: pytest.RunResult) -> dict[str, str]:
    matches = (re.match(r"^\S+::(?P<name>.+)\[q-\S+\] (?P<outcome>PASSED|FAILED)", line) for line in result.stdout.lines)
    return {m["name"]: m["outcome"] for m in matches if m}


def replay_offline(pytester, monkeypatch, simulator) -> pytest.RunResult:
    monkeypatch.delenv("REPLICATE_API_TOKEN", raising=False)
    simulator.stop()
    return pytester.runpytest("-v", "--record-mode=none")


def test_latency_comes_from_the_prediction_and_replays_the_same(pytester, write_eval, replicate_env, monkeypatch):
    replicate_env.latency = 0.2  # created_at to completed_at: 200 ms
    asserts = ["{type: latency, threshold: 1000}", "{type: latency, threshold: 100}",
               "{type: not-latency, threshold: 100}"]
    write_eval(replicate_suite("temperature: 0.1", asserts))
    expected = {asserts[0]: PASS, asserts[1]: FAIL, asserts[2]: PASS}
    live = pytester.runpytest("-v")
    assert replicate_outcomes(live) == expected
    live.stdout.fnmatch_lines(["*latency 200 ms is above the threshold of 100 ms (prediction created_at to completed_at)*"])

    replayed = replay_offline(pytester, monkeypatch, replicate_env)
    assert replicate_outcomes(replayed) == expected  # instant replay, same 200 ms
    replayed.stdout.fnmatch_lines(["*latency 200 ms is above the threshold of 100 ms*", "*3 replayed, 0 recorded*"])


def test_cost_by_tokens_and_by_time(pytester, write_eval, replicate_env, monkeypatch):
    # The simulator counts prompt words as input tokens (5) and answers in 12 words.
    replicate_env.latency = 0.2  # predict_time: 0.1 s
    write_eval(replicate_suite("inputCost: 0.0001, outputCost: 0.001",
                               ["{type: cost, threshold: 0.02}", "{type: cost, threshold: 0.001}"]), "tokens.eval.yaml")
    write_eval(replicate_suite("costPerSecond: 0.01",
                               ["{type: cost, threshold: 0.01}", "{type: not-cost, threshold: 0.01}"]), "time.eval.yaml")
    live = pytester.runpytest("-v")
    expected = {"{type: cost, threshold: 0.02}": PASS, "{type: cost, threshold: 0.001}": FAIL,
                "{type: cost, threshold: 0.01}": PASS, "{type: not-cost, threshold: 0.01}": FAIL}
    assert replicate_outcomes(live) == expected
    lines = ["*cost $0.*is above the threshold of $0.001 (5 input tokens x $0.0001 + * output tokens x $0.001)*",
             "*cost $0.001 is at most the threshold of $0.01 (predict_time 0.1 s x $0.01/s)*"]
    live.stdout.fnmatch_lines_random(lines)
    assert all("inputCost" not in json.dumps(r.json()) for r in replicate_env.requests if r.method == "POST")

    replayed = replay_offline(pytester, monkeypatch, replicate_env)
    assert replicate_outcomes(replayed) == expected
    replayed.stdout.fnmatch_lines_random(lines)


def test_cost_without_a_price_is_an_error_not_a_verdict(pytester, write_eval, replicate_env):
    write_eval(replicate_suite("temperature: 0.1", ["{type: not-cost, threshold: 1}"]))
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*cost cannot be checked: no price is configured: set config.costPerSecond*"])


def test_a_half_given_token_price_is_a_config_error(pytester, write_eval, replicate_env):
    write_eval(replicate_suite("inputCost: 0.0001", ["{type: cost, threshold: 1}"]))
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["suite.eval.yaml:3: providers[[]0[]]: config.inputCost is set but config.outputCost is not",
                                 "  hint: set both (0 if that direction is free), or config.cost for both"])
