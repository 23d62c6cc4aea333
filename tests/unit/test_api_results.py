"""Model results from Python: prompts rendered as in YAML, typed fields, the same failure report."""

from __future__ import annotations

import json

import pytest

from pytest_replicate import ConfigError, ModelResult, ProviderResponse, TemplateError, assert_output, grade_output
from pytest_replicate.api import render_prompt


def a_result(output: str = "Hello Ada", **metadata) -> ModelResult:
    response = ProviderResponse(output=output, latency_ms=12.5, raw={"id": "p1", "status": "succeeded"},
                                metadata={"prediction_id": "p1", "metrics": {"predict_time": 0.2}, **metadata})
    return ModelResult("replicate:meta/llama-2-7b-chat", "Greet Ada", {"name": "Ada"}, response)


def test_a_prompt_is_a_template_rendered_with_vars() -> None:
    assert render_prompt("Say hi to {{ name | upper }}", {"name": "Ada"}) == "Say hi to ADA"


def test_an_undefined_variable_is_named() -> None:
    with pytest.raises(TemplateError, match="prompt uses undefined variable 'name'"):
        render_prompt("Say hi to {{ name }}")


def test_chat_messages_render_each_content_and_stay_valid_json() -> None:
    text = render_prompt([{"role": "system", "content": "Be brief."},
                          {"role": "user", "content": "Quote {{ q }}"}], {"q": 'he said "hi"'})
    assert json.loads(text) == [{"role": "system", "content": "Be brief."},
                                {"role": "user", "content": 'Quote he said "hi"'}]


def test_a_chat_message_needs_content() -> None:
    with pytest.raises(ConfigError, match="a chat message is a mapping with 'role' and 'content'"):
        render_prompt([{"role": "user"}])


def test_a_result_names_what_came_back() -> None:
    result = a_result()
    assert (result.text, str(result), result.output) == ("Hello Ada", "Hello Ada", "Hello Ada")
    assert result.image is None and result.latency_ms == 12.5
    assert result.prediction_id == "p1" and result.metrics == {"predict_time": 0.2}
    assert result.raw["status"] == "succeeded"


def test_grading_a_result_uses_its_vars_and_prompt() -> None:
    assert grade_output(a_result(), "contains", "{{ name }}").passed
    assert grade_output(a_result(), {"type": "python", "value": "'Ada' in context['prompt']"}).passed


def test_a_failure_reads_like_the_eval_report() -> None:
    with pytest.raises(AssertionError) as raised:
        assert_output(a_result(), [{"type": "contains", "value": "Bob", "weight": 2}, {"type": "contains", "value": "Ada"}],
                      threshold=0.5)
    assert str(raised.value).splitlines() == [
        "weighted score 0.33 < threshold 0.5",
        "provider: replicate:meta/llama-2-7b-chat",
        "vars:",
        "    name: Ada",
        "prompt:",
        "    Greet Ada",
        "output:",
        "    Hello Ada",
        "assertions:",
        "  [FAIL] contains 'Bob' (score 0.00, weight 2): output does not contain 'Bob'",
        "  [PASS] contains 'Ada' (score 1.00): output contains 'Ada'",
    ]


def test_a_passing_check_returns_the_verdicts() -> None:
    grading = assert_output(a_result(), "icontains", "ada")
    assert grading.passed and grading.reason == "all assertions passed"


def test_a_model_graded_check_without_a_session_says_so() -> None:
    with pytest.raises(ConfigError, match="a moderation grader is needed, but this check runs without a session"):
        grade_output("some text", "moderation")
