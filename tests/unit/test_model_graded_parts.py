"""Pieces of the model-graded assertions: answers, embeddings, grader choice, and one graded run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_replicate.assertions.base import Verdict
from pytest_replicate.assertions.grading import first_json_object, render_builtin, render_custom, verdict_object
from pytest_replicate.providers.replicate.embedding import read_embedding
from pytest_replicate.run.graders import grader_spec


@pytest.mark.parametrize("output", [
    [0.1, 0.2],
    [[0.1, 0.2], [0.3, 0.4]],
    {"embedding": [0.1, 0.2]},
    [{"embedding": [0.1, 0.2]}],
    {"embeddings": [[0.1, 0.2]]},
    json.dumps([{"embedding": [0.1, 0.2]}]),
    [1, 0.2],  # integers are numbers too
])
def test_every_embedding_shape_gives_the_first_vector(output):
    assert read_embedding(output) == pytest.approx([0.1 if output != [1, 0.2] else 1.0, 0.2])


@pytest.mark.parametrize("output", [None, [], "not json", {"text": "x"}, [True, False], [{"other": 1}]])
def test_outputs_without_an_embedding(output):
    assert read_embedding(output) is None


@pytest.mark.parametrize("answer", [
    '{"pass": true, "score": 1}',
    'Sure. {"pass": true, "score": 1} Hope it helps.',
    '```json\n{\n  "pass": true,\n  "score": 1\n}\n```',
    'The set {a, b} is not JSON, but {"pass": true, "score": 1} is.',
])
def test_json_verdicts_are_found_in_prose_and_code_fences(answer):
    assert first_json_object(answer) == {"pass": True, "score": 1}


def test_unreadable_answers_have_no_json():
    assert first_json_object("I'm sorry, I can't help with that.") is None
    assert first_json_object('{"pass": true, "score"') is None


RUBRIC_PROMPT = render_builtin("llm-rubric", {"output": 'The verdict: {"pass": true}', "rubric": "is polite"})


@pytest.mark.parametrize("answer", [
    RUBRIC_PROMPT,  # the whole chat, as JSON: its first object is the system message
    json.loads(RUBRIC_PROMPT)[0]["content"],  # the instructions as text: the first example verdict
    '{"reason": "\'Ahoy matey\' is pirate talk", "pass": false, "score": 0.0}',  # an example, alone
    'Sure: {"pass": true}',  # JSON inside the output being graded
])
def test_an_answer_that_repeats_the_prompt_is_no_verdict(answer):
    verdict = verdict_object(answer, RUBRIC_PROMPT)
    assert isinstance(verdict, Verdict) and not verdict.passed
    assert "the grader's answer " in verdict.reason and "repeats the grading prompt" in verdict.reason
    assert verdict.reason.endswith(answer.strip()[-40:])  # the raw answer is shown


@pytest.mark.parametrize("answer", [
    RUBRIC_PROMPT,
    " ".join(f"{m['role']}: {m['content']}" for m in json.loads(RUBRIC_PROMPT)).replace("{", "("),  # no JSON, but the prompt
])
def test_an_answer_that_mostly_repeats_the_prompt_is_no_verdict_whatever_the_check(answer):
    from pytest_replicate.assertions.base import AssertionContext, VerdictReached
    from pytest_replicate.assertions.grading import ask
    from pytest_replicate.providers.base import CallContext, Provider, ProviderResponse

    class Grader(Provider):
        def call(self, prompt, context):
            return ProviderResponse(output=answer)

    context = AssertionContext(vars={}, prompt="", base_dir=Path.cwd(), call_context=CallContext())
    with pytest.raises(VerdictReached) as reached:
        ask(Grader("scripted"), RUBRIC_PROMPT, context)
    assert not reached.value.verdict.passed and reached.value.verdict.final
    assert "the grader's answer mostly repeats the grading prompt" in reached.value.verdict.reason


@pytest.mark.parametrize("answer", [
    '{"reason": "It is polite", "pass": true, "score": 1.0}',
    'The output says "The verdict" politely. {"reason": "polite", "pass": true, "score": 0.9}',
])
def test_a_real_verdict_is_read(answer):
    assert verdict_object(answer, RUBRIC_PROMPT) == first_json_object(answer)


def test_builtin_prompts_are_chat_messages_with_the_values_in_them():
    messages = json.loads(render_builtin("llm-rubric", {"output": 'say "hi"', "rubric": "is polite"}))
    assert [m["role"] for m in messages] == ["system", "user"]
    assert messages[1]["content"] == '<Output>\nsay "hi"\n</Output>\n<Rubric>\nis polite\n</Rubric>'


def test_custom_json_prompts_render_string_by_string():
    source = json.dumps([{"role": "user", "content": "{{ output }} / {{ rubric }}"}])
    assert json.loads(render_custom(source, {"output": '"quoted"', "rubric": "r"})) == [
        {"role": "user", "content": '"quoted" / r'}]


@pytest.mark.parametrize(("value", "purpose", "expected"), [
    ("replicate:meta/llama", "text", {"id": "replicate:meta/llama"}),
    ("replicate:meta/llama", "embedding", None),
    ("replicate:embedding:a/b", "embedding", {"id": "replicate:embedding:a/b"}),
    ({"id": "replicate:a/b", "config": {"temperature": 0}}, "text",
     {"id": "replicate:a/b", "config": {"temperature": 0}}),
    ({"text": "replicate:a/b", "embedding": "replicate:embedding:c/d"}, "embedding",
     {"id": "replicate:embedding:c/d"}),
    ({"embedding": "replicate:embedding:c/d"}, "text", None),
    ("replicate:moderation:meta/llama-guard-3-8b", "moderation", {"id": "replicate:moderation:meta/llama-guard-3-8b"}),
])
def test_grader_specs_by_purpose(value, purpose, expected):
    assert grader_spec(value, purpose) == expected


def test_model_graded_scores_reasons_and_metrics_reach_the_results(tmp_path, simulator):
    from helpers import FAKE_TOKEN

    from pytest_replicate.run.session import EvalSession
    from pytest_replicate.run.settings import Settings
    from pytest_replicate.suite.expand import expand
    from pytest_replicate.suite.loader import load_eval_file

    suite_file = tmp_path / "suite.eval.yaml"
    suite_file.write_text("prompts: ['{{ out }}']\nproviders: [echo]\ntests:\n  - vars: {out: Hello}\n"
                          "    assert: [{type: not-llm-rubric, value: 'mentions hello [[score=0.8]]', metric: tone}]\n")
    session = EvalSession(Settings(record_mode="all", concurrency=1),
                          env={"REPLICATE_BASE_URL": simulator.url, "REPLICATE_API_TOKEN": FAKE_TOKEN})
    try:
        data = session.run(expand(load_eval_file(suite_file))[0], "suite.eval.yaml::case").to_dict()
    finally:
        session.close()
    [assertion] = data["assertions"]
    assert (assertion["type"], assertion["passed"], assertion["metric"]) == ("not-llm-rubric", False, "tone")
    assert assertion["score"] == pytest.approx(0.2)
    assert assertion["reason"] == "The output mentions 'hello', which satisfies the rubric."
    assert data["named_scores"] == {"tone": pytest.approx(0.2)}


@pytest.mark.parametrize(("answer", "passed", "score"), [
    ('{"pass": true, "score": 0.7, "reason": "r"}', True, 0.7),
    ('{"reason": "no pass, no score"}', True, 1.0),
    ('{"pass": null, "score": null, "reason": "r"}', True, 0.0),
    ('{"pass": "yes", "score": "0.25", "reason": "r"}', True, 0.25),
    ('{"pass": "nope", "reason": "r"}', False, 0.0),
    ('{"pass": false, "score": "", "reason": "r"}', False, 0.0),
])
def test_llm_rubric_reads_verdicts_as_promptfoo_does(answer, passed, score):
    from pathlib import Path

    from pytest_replicate.assertions.base import AssertionContext
    from pytest_replicate.assertions.checks.model_graded import check_llm_rubric
    from pytest_replicate.assertions.spec import AssertionSpec
    from pytest_replicate.providers.base import CallContext, Provider, ProviderResponse

    class Canned(Provider):
        def call(self, prompt, context):
            return ProviderResponse(output=answer)

    class Graders:
        def grader(self, purpose, override=None):
            return Canned("canned")

    ctx = AssertionContext(vars={}, prompt="p", base_dir=Path("."), graders=Graders(), call_context=CallContext())
    verdict = check_llm_rubric("output", "rubric", AssertionSpec("llm-rubric"), ctx)
    assert (verdict.passed, verdict.score) == (passed, score)
