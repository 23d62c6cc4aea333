"""Function-call checks read the tools from the provider config, inline or from a file."""

from __future__ import annotations

from pathlib import Path

import yaml

from pytest_replicate.api import parse_assertions
from pytest_replicate.assertions.base import AssertionContext
from pytest_replicate.assertions.scoring import grade

WEATHER = {"name": "get_weather", "parameters": {"type": "object", "required": ["city"],
                                                 "properties": {"city": {"type": "string"}}}}


def verdict(output: str, kind: str, config: dict, base_dir: Path):
    context = AssertionContext(vars={}, prompt="p", base_dir=base_dir, provider_config=config)
    return grade(parse_assertions(kind), output, context).children[0]


def test_tools_come_from_a_file_named_in_the_config(tmp_path: Path) -> None:
    (tmp_path / "tools.yaml").write_text(yaml.safe_dump([{"type": "function", "function": WEATHER}]))
    config = {"tools": "file://tools.yaml"}
    call = '[{"function": {"name": "get_weather", "arguments": "{\\"city\\": \\"Oslo\\"}"}}]'
    assert verdict(call, "is-valid-openai-tools-call", config, tmp_path).passed
    assert verdict('{"name": "get_weather", "arguments": {"city": "Oslo"}}', "is-valid-function-call", config,
                   tmp_path).passed
    wrong = verdict('{"name": "get_weather", "arguments": {"town": "Oslo"}}', "is-valid-function-call", config, tmp_path)
    assert not wrong.passed
    assert "city" in wrong.reason


def test_a_missing_tools_file_is_the_reason(tmp_path: Path) -> None:
    result = verdict('{"name": "get_weather", "arguments": {}}', "is-valid-function-call",
                     {"functions": "file://gone.json"}, tmp_path)
    assert not result.passed
    assert "file://gone.json" in result.reason


def test_not_does_not_turn_the_verdict_round_as_in_promptfoo(tmp_path: Path) -> None:
    result = verdict('{"name": "get_weather", "arguments": {"city": "Oslo"}}', "not-is-valid-function-call",
                     {"functions": [WEATHER]}, tmp_path)
    assert result.passed


def test_tool_call_f1_scores_with_a_threshold_and_keeps_the_score_negated() -> None:
    from pytest_replicate.api import grade_output

    called = '{"tool_calls": [{"function": {"name": "search"}}, {"function": {"name": "book"}}]}'
    half = grade_output(called, {"type": "tool-call-f1", "value": ["search", "pay"], "threshold": 0.5}).children[0]
    assert (half.passed, half.score) == (True, 0.5)
    assert half.reason.startswith("Tool Call F1: 0.500 (precision=0.500, recall=0.500)")
    negated = grade_output(called, {"type": "not-tool-call-f1", "value": "search, pay"}).children[0]
    assert (negated.passed, negated.score) == (True, 0.5)  # promptfoo flips the verdict, not the score
