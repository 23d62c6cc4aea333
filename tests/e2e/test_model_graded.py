"""Model-graded assertions end to end, against the bundled simulator's graders, then replayed.

The model under test is the echo provider (its output is the ``out`` var), so each case
controls exactly what the grader sees; the graders are Replicate models served by the
simulator (its keyword grader and embedding model). Markers in a rubric such as
``[[malformed]]`` or ``[[score=0.4]]`` stage a grader's odd answers. Every grader call goes
through the item's cassette.
"""

from __future__ import annotations

import json
import re

import pytest

from pytest_replicate.simulator import BUILTIN, Fault, Simulator, parse_catalogue

GRADER = "meta/meta-llama-3-70b-instruct"
EMBEDDER = "replicate/all-mpnet-base-v2"
_ITEM = re.compile(r"^\S+::(?P<name>.+)\[out-echo\] (?P<outcome>PASSED|FAILED|ERROR)")


# The graders and models these tests name, beside the simulator's built-in ones.
ACME = parse_catalogue(
    [{"model": f"acme/{name}", "kind": "grader"}
     for name in ("assertion-grader", "test-grader", "default-test-grader", "cli-grader", "ini-grader", "text-grader")]
    + [{"model": "acme/embedder", "kind": "embedding"}, {"model": "acme/model"}])


@pytest.fixture
def simulator():
    """The simulator (``replicate_env`` points providers at it), serving the acme/ models too."""
    with Simulator(catalogue=BUILTIN.merged(ACME)) as server:
        yield server


def inputs_to(sim: Simulator, model: str) -> list[dict]:
    """The inputs of the predictions created for ``model``, in order."""
    return [inp for name, inp in sim.inputs_by_model() if name == model]


def models_called(sim: Simulator) -> set[str]:
    return {name for name, _ in sim.inputs_by_model()}


def echo_suite(cases: list[tuple[str, dict, str]], extra: str = "") -> str:
    """An eval file whose echo 'model' answers each case's ``out`` var."""
    lines = ["prompts: [{id: out, raw: '{{ out }}'}]", "providers: [echo]", extra, "tests:"]
    for name, variables, assertion in cases:
        lines += [f"  - description: {json.dumps(name)}", f"    vars: {json.dumps(variables)}",
                  f"    assert: [{assertion}]"]
    return "\n".join(lines) + "\n"


def outcomes(result: pytest.RunResult) -> dict[str, str]:
    return {m["name"]: m["outcome"] for m in map(_ITEM.match, result.stdout.lines) if m}


def run_twice(pytester: pytest.Pytester, sim: Simulator, expected: dict[str, str], *args: str) -> pytest.RunResult:
    """Record against the simulator, then replay offline: both runs give ``expected``."""
    recorded = pytester.runpytest("-v", "--replicate-concurrency=1", *args)
    assert outcomes(recorded) == expected, recorded.stdout.str()
    calls = len(sim.requests)
    replayed = pytester.runpytest("-v", "--record-mode=none", *args)
    assert outcomes(replayed) == expected, replayed.stdout.str()
    assert len(sim.requests) == calls, "replay must not call the graders"
    return replayed


PASS, FAIL = "PASSED", "FAILED"

LLM_CASES = [
    ("rubric passes", {"out": "Hello there, friend!"}, "{type: llm-rubric, value: mentions hello}", PASS),
    ("rubric fails", {"out": "Goodbye."}, "{type: llm-rubric, value: mentions hello}", FAIL),
    ("not-rubric", {"out": "Goodbye."}, "{type: not-llm-rubric, value: mentions hello}", PASS),
    ("rubric renders vars", {"out": "Paris is lovely", "city": "Paris"},
     "{type: llm-rubric, value: 'mentions {{ city }}'}", PASS),
    ("rubric threshold", {"out": "Hello"}, "{type: llm-rubric, value: 'mentions hello [[score=0.4]]', threshold: 0.5}",
     FAIL),
    ("rubric fenced answer", {"out": "Hello"}, "{type: llm-rubric, value: 'mentions hello [[fenced]]'}", PASS),
    ("rubric malformed", {"out": "Hello"}, "{type: llm-rubric, value: 'mentions hello [[malformed]]'}", FAIL),
    ("not-rubric malformed", {"out": "Hello"}, "{type: not-llm-rubric, value: 'mentions hello [[malformed]]'}", FAIL),
    ("rubric refusal", {"out": "Hello"}, "{type: llm-rubric, value: 'mentions hello [[refuse]]'}", FAIL),
    ("closedqa yes", {"out": "The capital is Paris."}, "{type: model-graded-closedqa, value: names Paris}", PASS),
    ("closedqa no", {"out": "I do not know."}, "{type: model-graded-closedqa, value: names Paris}", FAIL),
    ("not-closedqa is not negated", {"out": "The capital is Paris."},
     "{type: not-model-graded-closedqa, value: names Paris}", PASS),
    ("closedqa malformed", {"out": "Paris"}, "{type: model-graded-closedqa, value: 'Paris [[malformed]]'}", FAIL),
    ("factuality same", {"out": "Paris is the capital of France"},
     "{type: factuality, value: The capital of France is Paris}", PASS),
    ("factuality subset", {"out": "Paris"}, "{type: factuality, value: Paris is the capital of France}", PASS),
    ("factuality disagrees", {"out": "It was built in 1887"}, "{type: factuality, value: It was built in 1889}", FAIL),
    ("g-eval high", {"out": "Paris is the capital city of France"},
     "{type: g-eval, value: mentions Paris and France}", PASS),
    ("g-eval low", {"out": "Paris"}, "{type: g-eval, value: mentions Paris and France and Europe}", FAIL),
    ("g-eval threshold", {"out": "Paris"}, "{type: g-eval, value: mentions Paris and France, threshold: 0.5}", PASS),
    ("g-eval list", {"out": "Paris, France"}, "{type: g-eval, value: [mentions Paris, mentions Germany]}", FAIL),
    ("not-g-eval", {"out": "Rome"}, "{type: not-g-eval, value: mentions Paris}", PASS),
    ("g-eval malformed steps", {"out": "Paris"}, "{type: g-eval, value: 'Paris [[malformed]]'}", FAIL),
]


def test_text_graders_record_then_replay(pytester, write_eval, replicate_env):
    write_eval(echo_suite([case[:3] for case in LLM_CASES]))
    run_twice(pytester, replicate_env, {name: outcome for name, _, _, outcome in LLM_CASES})
    assert models_called(replicate_env) == {GRADER}  # the default grader


def test_unreadable_answers_fail_the_assertion_and_show_it(pytester, write_eval, replicate_env):
    write_eval(echo_suite([
        ("malformed", {"out": "Hello"}, "{type: llm-rubric, value: 'mentions hello [[malformed]]'}"),
        ("threshold", {"out": "Hello"}, "{type: llm-rubric, value: 'mentions hello [[score=0.4]]', threshold: 0.5}"),
    ]))
    result = pytester.runpytest("--replicate-concurrency=1")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines([
        "could not read a JSON verdict from replicate:meta/meta-llama-3-70b-instruct's llm-rubric answer; "
        "the grader answered:",
        '{"reason" "The output mentions *',  # the simulator's truncated JSON
        "*[[]FAIL[]] llm-rubric 'mentions hello [[][[]score=0.4[]][]]' (score 0.40): The output mentions 'hello', "
        "which satisfies the rubric. (score 0.4 is below the threshold 0.5)",
    ])


def test_a_grader_that_repeats_its_prompt_is_no_verdict(pytester, write_eval, replicate_env):
    """The echo provider as grader answers with the grading prompt: before, llm-rubric passed (the first JSON
    object in it is an example verdict, or a chat message without a ``pass``), factuality read the prompt's
    "(A)", context-recall counted its sentences. A grader answering just the prompt's example is caught too."""
    example = "{\"reason\": \"'Good morning' is a greeting\", \"pass\": true, \"score\": 1.0}"
    replicate_env.change_answer(GRADER, "the capital of Mars", f"Here is my verdict: {example}")
    write_eval(echo_suite([
        ("rubric", {"out": "Bonjour"}, "{type: llm-rubric, value: is German, provider: echo}"),
        ("factuality", {"out": "Bonjour"}, "{type: factuality, value: Hallo, provider: echo}"),
        ("g-eval", {"out": "Bonjour"}, "{type: g-eval, value: is German, provider: echo}"),
        ("closedqa", {"out": "Bonjour"}, "{type: model-graded-closedqa, value: is German, provider: echo}"),
        ("recall", {"out": "Bonjour", "context": "Berlin is in Germany.", "query": "Where?"},
         "{type: context-recall, value: Berlin is in Germany., provider: echo}"),
        ("example", {"out": "the capital of Mars is Olympus"}, "{type: llm-rubric, value: names a city}"),
    ]))
    result = pytester.runpytest("--replicate-concurrency=1", "-rA")
    result.assert_outcomes(failed=6)
    repeats = ("(score 0.00): the grader's answer mostly repeats the grading prompt, it is not a verdict. Is the "
               "grader a model that follows instructions?; the grader answered:")
    result.stdout.fnmatch_lines([
        f"*[[]FAIL[]] llm-rubric 'is German' {repeats}",
        f"*[[]FAIL[]] factuality 'Hallo' {repeats}",
        f"*[[]FAIL[]] g-eval 'is German' {repeats}",
        f"*[[]FAIL[]] model-graded-closedqa 'is German' {repeats}",
        f"*[[]FAIL[]] context-recall 'Berlin is in Germany.' {repeats}",
        "*[[]FAIL[]] llm-rubric 'names a city' (score 0.00): the grader's answer repeats the grading prompt: its "
        "JSON {\"reason\": \"'Good morning' is a greeting\", * is the prompt's own (an example, or part of "
        "what it was given), not a verdict*",
        "Here is my verdict: {*",
    ])


SIMILAR_CASES = [
    ("similar", {"out": "The cat sat on the mat"}, "{type: similar, value: The cat sat on the mat}", PASS),
    ("dissimilar", {"out": "Stock prices fell sharply"}, "{type: similar, value: The cat sat on the mat}", FAIL),
    ("any of a list", {"out": "The cat sat on the mat"},
     "{type: similar, value: [Stock prices fell, The cat sat on the mat]}", PASS),
    ("none of a list", {"out": "Quantum physics"}, "{type: similar, value: [Stock prices fell, A cat sat]}", FAIL),
    ("not-similar", {"out": "Stock prices fell sharply"}, "{type: not-similar, value: The cat sat on the mat}", PASS),
    ("not-similar list", {"out": "The cat sat on the mat"},
     "{type: not-similar, value: [Stock prices fell, The cat sat on the mat]}", FAIL),
    ("threshold", {"out": "The cat sat"}, "{type: similar, value: The cat sat on the mat, threshold: 0.99}", FAIL),
    ("euclidean", {"out": "The cat sat on the mat"}, "{type: 'similar:euclidean', value: The cat sat on the mat, "
                                                    "threshold: 0.1}", PASS),
]


def test_similar_record_then_replay(pytester, write_eval, replicate_env):
    write_eval(echo_suite([case[:3] for case in SIMILAR_CASES]))
    run_twice(pytester, replicate_env, {name: outcome for name, _, _, outcome in SIMILAR_CASES})
    assert models_called(replicate_env) == {EMBEDDER}  # by version: it is not an official model


def test_similar_scores_reach_the_results(pytester, write_eval, replicate_env):
    write_eval(echo_suite([("s", {"out": "The cat sat"}, "{type: not-similar, value: The cat sat, metric: closeness}")]))
    result = pytester.runpytest("--replicate-concurrency=1")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*[[]FAIL[]] not-similar 'The cat sat' (score 0.00, metric closeness): "
                                 "Similarity 1.00 is greater than or equal to threshold 0.75"])


RAG_CASES = [
    ("relevant answer", {"out": "The capital of France is Paris", "query": "What is the capital of France?"},
     "{type: answer-relevance}", PASS),
    ("irrelevant answer", {"out": "Bananas are yellow", "query": "What is the capital of France?"},
     "{type: answer-relevance}", FAIL),
    ("recall", {"out": "x", "context": "Paris is the capital of France. It has 2 million people."},
     "{type: context-recall, value: Paris is the capital of France.}", PASS),
    ("recall misses", {"out": "x", "context": "Paris is the capital of France."},
     "{type: context-recall, value: Berlin is the capital of Germany.}", FAIL),
    ("relevance of chunks", {"out": "Paris is the capital of France.|The capital has museums.",
                             "query": "capital of France"},
     "{type: context-relevance, contextTransform: \"output.split('|')\"}", PASS),
    ("relevance low", {"out": "x", "query": "capital of France",
                       "context": "Paris is the capital of France. Bananas are yellow. Rain is wet."},
     "{type: context-relevance}", FAIL),
    ("faithful", {"out": "Paris is the capital of France.", "query": "capital?",
                  "context": "Paris is the capital of France."}, "{type: context-faithfulness}", PASS),
    ("unfaithful", {"out": "Berlin is the capital of Germany.", "query": "capital?",
                    "context": "Paris is the capital of France."}, "{type: context-faithfulness}", FAIL),
    ("not-faithful", {"out": "Berlin is the capital of Germany.", "query": "capital?",
                      "context": "Paris is the capital of France."}, "{type: not-context-faithfulness}", PASS),
    ("context from output", {"out": "Paris is the capital of France.", "query": "capital of France"},
     "{type: context-relevance, contextTransform: output}", PASS),
]


def test_rag_checks_record_then_replay(pytester, write_eval, replicate_env):
    write_eval(echo_suite([case[:3] for case in RAG_CASES]))
    run_twice(pytester, replicate_env, {name: outcome for name, _, _, outcome in RAG_CASES})
    assert models_called(replicate_env) == {GRADER, EMBEDDER}


def test_context_checks_need_a_context(pytester, write_eval, replicate_env):
    write_eval(echo_suite([("no context", {"out": "x", "query": "q"}, "{type: context-relevance}")]))
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*context-relevance needs a context: give the test a 'context' var*"])


def graded_by(sim: Simulator) -> dict[str, set[str]]:
    """Which model graded which output (the echo output is inside each grading prompt)."""
    seen: dict[str, set[str]] = {}
    for model, inp in sim.inputs_by_model():
        found = re.findall(r"<Output>\\n(\w+)", json.dumps(inp))
        seen.setdefault(model, set()).update(found)
    return seen


def test_grader_selection_order(pytester, write_eval, replicate_env):
    write_eval("""\
        prompts: [{id: out, raw: '{{ out }}'}]
        providers: [echo]
        defaultTest:
          options: {provider: replicate:acme/default-test-grader}
        tests:
          - vars: {out: assertion}
            options: {provider: replicate:acme/test-grader}
            assert: [{type: llm-rubric, value: mentions assertion, provider: replicate:acme/assertion-grader}]
          - vars: {out: test}
            options: {provider: {id: replicate:acme/test-grader, config: {temperature: 0}}}
            assert: [{type: llm-rubric, value: mentions test}]
          - vars: {out: defaulttest}
            assert: [{type: llm-rubric, value: mentions defaulttest}]
        """)
    write_eval("""\
        prompts: [{id: out, raw: '{{ out }}'}]
        providers: [echo]
        tests:
          - vars: {out: commandline}
            assert: [{type: llm-rubric, value: mentions commandline}]
        """, name="other.eval.yaml")
    pytester.makeini("[pytest]\nreplicate_grader = replicate:acme/ini-grader\n")
    result = pytester.runpytest("--replicate-grader=replicate:acme/cli-grader")
    result.assert_outcomes(passed=4)
    assert graded_by(replicate_env) == {
        "acme/assertion-grader": {"assertion"}, "acme/test-grader": {"test"},
        "acme/default-test-grader": {"defaulttest"}, "acme/cli-grader": {"commandline"},
    }
    assert inputs_to(replicate_env, "acme/test-grader")[-1]["temperature"] == 0


def test_ini_grader_then_the_default(pytester, write_eval, replicate_env):
    write_eval("""\
        prompts: [{id: out, raw: '{{ out }}'}]
        providers: [echo]
        tests:
          - vars: {out: ini}
            assert: [{type: llm-rubric, value: mentions ini}]
        """)
    pytester.makeini("[pytest]\nreplicate_grader = replicate:acme/ini-grader\n")
    pytester.runpytest().assert_outcomes(passed=1)
    pytester.makeini("[pytest]\n")
    pytester.runpytest("--record-mode=all").assert_outcomes(passed=1)
    assert graded_by(replicate_env) == {"acme/ini-grader": {"ini"}, GRADER: {"ini"}}


def test_a_bad_grader_option_is_a_usage_error(pytester, write_eval):
    write_eval(echo_suite([("x", {"out": "x"}, "{type: equals, value: x}")]))
    result = pytester.runpytest("--replicate-grader=openai:gpt-4")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--replicate-grader = 'openai:gpt-4': unknown provider id 'openai:gpt-4'*"])


def test_one_grader_per_purpose(pytester, write_eval, replicate_env):
    write_eval(echo_suite(
        [("relevance", {"out": "The capital of France is Paris", "query": "What is the capital of France?"},
          "{type: answer-relevance}")],
        extra="defaultTest:\n  options:\n    provider:\n      text: replicate:acme/text-grader\n"
              "      embedding: replicate:embedding:acme/embedder\n"))
    pytester.runpytest().assert_outcomes(passed=1)
    assert [model for model, _ in replicate_env.inputs_by_model()] == ["acme/text-grader"] * 3 + ["acme/embedder"] * 4


def test_an_assertion_grader_of_the_wrong_kind_is_refused(pytester, write_eval):
    write_eval(echo_suite([("x", {"out": "x"}, "{type: similar, value: x, provider: replicate:meta/llama}")]))
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*'replicate:meta/llama' cannot grade this assertion",
                                 "*use a replicate:embedding:OWNER/MODEL[[]:VERSION[]] id"])


def test_custom_rubric_prompts(pytester, write_eval, replicate_env):
    (pytester.path / "rubric.txt").write_text("GRADE <Output>{{ output }}</Output> <Rubric>{{ rubric }}</Rubric> "
                                              "for {{ who }}")
    write_eval("""\
        prompts: [{id: out, raw: '{{ out }}'}]
        providers: [echo]
        tests:
          - description: chat messages on the test
            vars: {out: hello}
            options:
              rubricPrompt:
                - {role: system, content: 'Judge strictly. Answer JSON.'}
                - {role: user, content: '<Output>{{ output }}</Output><Rubric>{{ rubric }}</Rubric>'}
            assert: [{type: llm-rubric, value: mentions hello}]
          - description: a file on the assertion
            vars: {out: hello, who: Ann}
            assert: [{type: llm-rubric, value: mentions hello, rubricPrompt: file://rubric.txt}]
        """)
    pytester.runpytest("--replicate-concurrency=1").assert_outcomes(passed=2)
    first, second = inputs_to(replicate_env, GRADER)
    assert first["system_prompt"] == "Judge strictly. Answer JSON."
    assert first["prompt"] == "<Output>hello</Output><Rubric>mentions hello</Rubric>"
    assert second["prompt"] == "GRADE <Output>hello</Output> <Rubric>mentions hello</Rubric> for Ann"


def test_factuality_scores_per_category_are_configurable(pytester, write_eval, replicate_env):
    write_eval(echo_suite(
        [("subset", {"out": "Paris"}, "{type: factuality, value: Paris is the capital of France}"),
         ("disagrees", {"out": "It was built in 1887"}, "{type: factuality, value: It was built in 1889}")],
        extra="defaultTest:\n  options:\n    factuality: {subset: 0, disagree: 0.5}\n"))
    result = pytester.runpytest("-v", "--replicate-concurrency=1")
    assert outcomes(result) == {"subset": FAIL, "disagrees": PASS}


def test_a_failing_grader_call_fails_the_item_and_saves_no_cassette(pytester, write_eval, replicate_env):
    replicate_env.add_fault(Fault("status", status=401, model=GRADER, times=100))  # every call
    write_eval(echo_suite([("x", {"out": "hello"}, "{type: llm-rubric, value: mentions hello}")]))
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*Replicate rejected the API token (401 Unauthenticated) for replicate:meta/meta-llama-3-70b-instruct*"])
    assert not list(pytester.path.glob("cassettes/**/*.yaml"))
    replicate_env.reset()
    pytester.runpytest().assert_outcomes(passed=1)
    assert list(pytester.path.glob("cassettes/**/*.yaml"))


def test_a_grader_call_missing_from_the_cassette_fails_in_replay(pytester, write_eval, replicate_env):
    write_eval(echo_suite([("x", {"out": "hello"}, "{type: llm-rubric, value: mentions hello}")]))
    result = pytester.runpytest("--record-mode=none")
    result.assert_outcomes(failed=1)
    assert not replicate_env.requests
    assert not list(pytester.path.glob("cassettes/**/*.yaml"))


def test_summary_shows_the_mean_score_per_metric_per_file(pytester, write_eval, replicate_env):
    cases = [("a", {"out": "Hello"}, "{type: llm-rubric, value: 'mentions hello [[score=0.5]]', metric: tone}"),
             ("b", {"out": "Hello"}, "{type: llm-rubric, value: mentions hello, metric: tone}"),
             ("c", {"out": "Bye"}, "{type: contains, value: Bye, metric: words}")]
    write_eval(echo_suite(cases))
    write_eval(echo_suite(cases[2:]), name="other.eval.yaml")
    result = pytester.runpytest()
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(["*replicate evals*", "other.eval.yaml: 1 of 1 passed (100%)", "*", "*", "*",
                                 "  words *1.00", "suite.eval.yaml: 3 of 3 passed (100%)", "*", "*", "*",
                                 "  tone *0.75", "  words *1.00"], consecutive=True)


def test_summary_metrics_are_merged_from_xdist_workers(pytester, write_eval):
    write_eval(echo_suite([(f"c{i}", {"out": "x"}, "{type: equals, value: x, metric: exact}") for i in range(4)]))
    result = pytester.runpytest("-p", "xdist", "-n", "2")
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(["suite.eval.yaml: 4 of 4 passed (100%)", "*", "*", "*", "  exact *1.00"],
                                consecutive=True)


SELECT_BEST = """\
prompts:
  - {id: short, raw: 'Paris'}
  - {id: long, raw: 'Paris is the capital of France'}
  - {id: other, raw: 'Bananas are yellow'}
providers: [echo]
tests:
  - description: best
    vars: {x: 1}
    assert: [{type: select-best, value: names the capital of France}]
"""
_ANY_ITEM = re.compile(r"^(?:\S+::(?P<name>\S+) (?P<outcome>PASSED|FAILED|ERROR)"
                       r"|\[gw\d+\] \[...%\] (?P<xoutcome>PASSED|FAILED|ERROR) \S+::(?P<xname>\S+))")


def any_outcomes(result: pytest.RunResult) -> dict[str, str]:
    """Outcomes by item name, from -v lines with or without pytest-xdist."""
    found = (m for m in map(_ANY_ITEM.match, result.stdout.lines) if m)
    return {m["name"] or m["xname"]: m["outcome"] or m["xoutcome"] for m in found}


@pytest.mark.parametrize("args", [("--replicate-concurrency=1",), ("--replicate-concurrency=4",),
                                  ("-p", "xdist", "-n", "2")], ids=["serial", "concurrent", "xdist"])
def test_select_best_passes_only_the_chosen_output(pytester, write_eval, replicate_env, args):
    write_eval(SELECT_BEST)
    expected = {"best[short-echo]": FAIL, "best[long-echo]": PASS, "best[other-echo]": FAIL}
    recorded = pytester.runpytest("-v", *args)
    assert any_outcomes(recorded) == expected, recorded.stdout.str()
    recorded.stdout.fnmatch_lines(["*Output not selected (the grader chose output 2 of 3): names the capital*"])
    grading_prompts = inputs_to(replicate_env, GRADER)
    assert len(grading_prompts) == 3 and len({json.dumps(p, sort_keys=True) for p in grading_prompts}) == 1
    calls = len(replicate_env.requests)
    replayed = pytester.runpytest("-v", "--record-mode=none", *args)
    assert any_outcomes(replayed) == expected, replayed.stdout.str()
    assert len(replicate_env.requests) == calls


def test_select_best_one_item_alone_replays_from_its_own_cassette(pytester, write_eval, replicate_env):
    write_eval(SELECT_BEST)
    pytester.runpytest("--replicate-concurrency=1").assert_outcomes(passed=1, failed=2)
    result = pytester.runpytest("-v", "--record-mode=none", "-k", "long")
    assert any_outcomes(result) == {"best[long-echo]": PASS}


def test_select_best_needs_two_outputs(pytester, write_eval, replicate_env):
    write_eval(echo_suite([("alone", {"out": "x"}, "{type: select-best, value: best}")]))
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*select-best needs at least two outputs to compare*"])


def test_verdicts_match_promptfoo_for_the_same_grader_answers(pytester, write_eval, replicate_env):
    """promptfoo 0.123.1 gave these verdicts for these grader answers (it ran with the echo provider
    grading, answering each rendered rubricPrompt): factuality and model-graded-closedqa ignore
    ``not-``; an unreadable answer fails a negated llm-rubric too; a threshold above the score fails
    a passing verdict. Here a scripted grader gives the same answers, since an answer that merely
    repeats its prompt is no verdict here (see test_a_grader_that_repeats_its_prompt_is_no_verdict)."""
    answers = {"case 1": "verdict (D) for hello", "case 2": "verdict (D) for hello", "case 3": "verdict (A) for hello",
               "case 4": "hello Y", "case 5": "no json here hello",
               "case 6": '{"pass": true, "score": 0.4, "reason": "hello"}'}
    for marker, answer in answers.items():
        replicate_env.change_answer(GRADER, f"grade {marker}:", answer)
    write_eval("""\
        prompts: [{id: out, raw: '{{ out }}'}]
        providers: [echo]
        tests:
          - description: factuality D
            vars: {out: hello}
            options: {rubricPrompt: 'grade case 1: {{ completion }}'}
            assert: [{type: factuality, value: x}]
          - description: not-factuality D
            vars: {out: hello}
            options: {rubricPrompt: 'grade case 2: {{ completion }}'}
            assert: [{type: not-factuality, value: x}]
          - description: not-factuality A
            vars: {out: hello}
            options: {rubricPrompt: 'grade case 3: {{ completion }}'}
            assert: [{type: not-factuality, value: x}]
          - description: not-closedqa Y
            vars: {out: hello}
            options: {rubricPrompt: 'grade case 4: {{ completion }}'}
            assert: [{type: not-model-graded-closedqa, value: x}]
          - description: not-rubric unreadable
            vars: {out: hello}
            options: {rubricPrompt: 'grade case 5: {{ output }}'}
            assert: [{type: not-llm-rubric, value: x}]
          - description: rubric threshold
            vars: {out: hello}
            options: {rubricPrompt: 'grade case 6: {{ output }}'}
            assert: [{type: llm-rubric, value: x, threshold: 0.5}]
        """)
    result = pytester.runpytest("-v")
    assert outcomes(result) == {
        "factuality D": FAIL, "not-factuality D": FAIL,
        "not-factuality A": PASS, "not-closedqa Y": PASS,
        "not-rubric unreadable": FAIL, "rubric threshold": FAIL,
    }


def test_the_bundled_simulator_grades_the_example_suite(pytester, replicate_env):
    """The example suite's model-graded file, recorded live against the bundled simulator
    (its grader stand-in reads our prompts), then replayed; malformed and refusing
    answers from it fail their assertion."""
    import shutil
    from pathlib import Path

    shutil.copy(Path(__file__).parents[2] / "example_suite" / "graded.eval.yaml", pytester.path / "graded.eval.yaml")
    (pytester.path / "broken.eval.yaml").write_text("""\
prompts: ['Answer in one sentence: {{ question }}']
providers: [replicate:meta/meta-llama-3-8b-instruct]
tests:
  - description: malformed
    vars: {question: What is the capital of France?}
    assert: [{type: llm-rubric, value: 'mentions Paris [[malformed]]'}]
  - description: refusal
    vars: {question: What is the capital of France?}
    assert: [{type: factuality, value: 'Paris is the capital of France. [[refuse]]'}]
""")
    recorded = pytester.runpytest()
    recorded.assert_outcomes(passed=3, failed=2)
    recorded.stdout.fnmatch_lines(["*could not read a JSON verdict*", "*the factuality answer names no category*"])
    replayed = pytester.runpytest("--record-mode=none")
    replayed.assert_outcomes(passed=3, failed=2)
    replayed.stdout.fnmatch_lines(["* replayed, 0 recorded, 0 missed (record mode: none)"])


def test_a_grader_5xx_after_its_retries_fails_the_item(pytester, write_eval, replicate_env):
    replicate_env.add_fault(Fault("status", status=503, model="acme/flaky-grader", times=100))  # every call
    write_eval(echo_suite(
        [("x", {"out": "hello"}, "{type: similar, value: hello}"),
         ("y", {"out": "hello"}, "{type: llm-rubric, value: mentions hello}")],
        extra="defaultTest:\n  options:\n    provider:\n      text: {id: replicate:acme/flaky-grader, "
              "config: {max_retries: 1, retry_backoff: 0}}\n"))
    result = pytester.runpytest("-v", "--replicate-concurrency=1")
    assert outcomes(result) == {"x": PASS, "y": FAIL}
    result.stdout.fnmatch_lines(["*acme/flaky-grader failed 2 times, the last with HTTP 503*"])
    assert [path.name.split("_")[0] for path in pytester.path.glob("cassettes/**/*.yaml")] == ["x"]


SIMULATED = """\
prompts: [{id: out, raw: '{{ out }}'}]
providers: [echo]
tests:
  - description: rubric pass
    vars: {out: Hello there, friend!}
    assert: [{type: llm-rubric, value: contains a greeting}]
  - description: rubric fail
    vars: {out: The invoice is attached.}
    assert: [{type: llm-rubric, value: contains a greeting}]
  - description: closedqa pass
    vars: {out: The capital of France is Paris.}
    assert: [{type: model-graded-closedqa, value: mentions Paris}]
  - description: closedqa fail
    vars: {out: I do not know.}
    assert: [{type: model-graded-closedqa, value: mentions Paris}]
  - description: factuality pass
    vars: {out: The capital of France is Paris.}
    assert: [{type: factuality, value: Paris is the capital of France.}]
  - description: factuality fail
    vars: {out: The tower was finished in 1887.}
    assert: [{type: factuality, value: The tower was finished in 1889.}]
  - description: g-eval pass
    vars: {out: Paris is the capital of France.}
    assert: [{type: g-eval, value: mentions Paris and France}]
  - description: g-eval fail
    vars: {out: Bananas are yellow.}
    assert: [{type: g-eval, value: mentions Paris and France}]
  - description: similar pass
    vars: {out: The cat sat on the mat.}
    assert: [{type: similar, value: A cat sat on the mat.}]
  - description: similar fail
    vars: {out: Stock markets fell sharply today.}
    assert: [{type: similar, value: A cat sat on the mat.}]
  - description: relevance pass
    vars: {out: The capital of France is Paris., query: What is the capital of France?}
    assert: [{type: answer-relevance}]
  - description: relevance fail
    vars: {out: Bananas are rich in potassium., query: What is the capital of France?}
    assert: [{type: answer-relevance}]
  - description: recall pass
    vars: {out: x, context: Paris is the capital of France. It is on the Seine.}
    assert: [{type: context-recall, value: Paris is the capital of France.}]
  - description: recall fail
    vars: {out: x, context: Paris is the capital of France.}
    assert: [{type: context-recall, value: Berlin has many museums.}]
  - description: ctxrel pass
    vars: {out: x, query: capital of France, context: Paris is the capital of France.}
    assert: [{type: context-relevance}]
  - description: ctxrel fail
    vars: {out: x, query: capital of France, context: Paris is the capital of France. Bananas are yellow. Rain is wet.}
    assert: [{type: context-relevance}]
  - description: faith pass
    vars: {out: Paris is the capital of France., query: capital?, context: Paris is the capital of France.}
    assert: [{type: context-faithfulness}]
  - description: faith fail
    vars: {out: Berlin is the capital of Germany., query: capital?, context: Paris is the capital of France.}
    assert: [{type: context-faithfulness}]
"""
SIMULATED_BEST = """\
prompts: [{id: short, raw: Paris}, {id: long, raw: Paris is the capital of France}]
providers: [echo]
tests:
  - description: best
    vars: {x: 1}
    assert: [{type: select-best, value: names the capital of France}]
"""


def test_every_assertion_passes_and_fails_against_the_bundled_simulator(pytester, replicate_env):
    """The simulator's grader stand-in (it recognises our grading prompts by their fixed
    phrases and tags) and its embedding model, recorded live, then replayed offline."""
    (pytester.path / "all.eval.yaml").write_text(SIMULATED)
    (pytester.path / "best.eval.yaml").write_text(SIMULATED_BEST)
    expected = {name: (PASS if name.endswith("pass") else FAIL)
                for name in re.findall(r"description: (.+)", SIMULATED)}
    recorded = pytester.runpytest("-v")
    assert outcomes(recorded) == expected, recorded.stdout.str()
    best = any_outcomes(recorded)
    assert (best["best[short-echo]"], best["best[long-echo]"]) == (FAIL, PASS)
    replayed = pytester.runpytest("-v", "--record-mode=none")
    assert outcomes(replayed) == expected
    replayed.stdout.fnmatch_lines(["* replayed, 0 recorded, 0 missed (record mode: none)"])


@pytest.mark.parametrize("concurrency", ["1", "4"])
def test_select_best_calls_each_model_once_per_item(pytester, write_eval, replicate_env, concurrency):
    write_eval("""\
        prompts: [{id: a, raw: 'Say hi'}, {id: b, raw: 'Say hello'}, {id: c, raw: 'Say hey'}]
        providers: [replicate:acme/model]
        tests:
          - vars: {x: 1}
            assert: [{type: select-best, value: the friendliest}]
        """)
    result = pytester.runpytest(f"--replicate-concurrency={concurrency}", "--record-mode=all")
    result.assert_outcomes(passed=1, failed=2)
    assert len(inputs_to(replicate_env, "acme/model")) == 3
    assert len(inputs_to(replicate_env, GRADER)) == 3


CONVERSATION = [
    {"input": "Hi there", "output": "Hello! How can I help?"},
    {"input": "What is the capital of France?", "output": "The capital of France is Paris."},
    {"input": "And how many people live in Paris?", "output": "Bananas are rich in potassium."},
]
CONVERSATION_CASES = [
    ("one exchange", {"out": "Paris is the capital of France"}, "{type: conversation-relevance}", PASS),
    ("two of three windows", {"out": "x", "_conversation": CONVERSATION}, "{type: conversation-relevance}", PASS),
    ("below a threshold", {"out": "x", "_conversation": CONVERSATION},
     "{type: conversation-relevance, threshold: 0.8}", FAIL),
    ("negated", {"out": "x", "_conversation": CONVERSATION}, "{type: not-conversation-relevance, threshold: 0.8}",
     PASS),
    ("window of one", {"out": "x", "_conversation": CONVERSATION},
     "{type: conversation-relevance, config: {windowSize: 1}, threshold: 0.6}", PASS),
]


def test_conversation_relevance_records_then_replays(pytester, write_eval, replicate_env):
    write_eval(echo_suite([case[:3] for case in CONVERSATION_CASES]))
    result = run_twice(pytester, replicate_env, {name: outcome for name, _, _, outcome in CONVERSATION_CASES})
    # Below the threshold, one more grader call says why (promptfoo's summary of the irrelevancies).
    result.stdout.fnmatch_lines(["*[[]FAIL[]] conversation-relevance (score 0.67): The score is 0.6666666666666666 because "
                                 "The reply does not address 'many', 'people', 'live', 'paris' from the user's message.*"])
    windows = [inp for inp in inputs_to(replicate_env, GRADER) if "LAST `assistant`" in json.dumps(inp)]
    assert len(windows) == 3 * 4 + 1  # three windows in four cases with a conversation, one exchange alone


def test_conversation_relevance_needs_a_verdict(pytester, write_eval, replicate_env):
    write_eval(echo_suite([("odd grader", {"out": "x", "_conversation": CONVERSATION[:1] + [
        {"input": "[[malformed]] hi", "output": "hello"}]}, "{type: not-conversation-relevance}")]))
    result = pytester.runpytest("--replicate-concurrency=1")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*Error parsing output: *the grader answered:*"])
