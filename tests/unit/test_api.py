"""The Python API gives the verdicts the same checks give in eval files."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_replicate import ConfigError, assert_output, grade_output, load_suite

EXAMPLE = Path(__file__).resolve().parents[2] / "example_suite"


def test_grade_output_with_a_type_and_value() -> None:
    assert grade_output("Hello Ada", "icontains", "ada").passed
    assert not grade_output("Hello Ada", "contains", "ada").passed


def test_grade_output_with_weights_and_threshold() -> None:
    result = grade_output(
        "Hello Ada",
        [{"type": "contains", "value": "Ada", "weight": 3}, {"type": "contains", "value": "Bob"}],
        threshold=0.7,
    )
    assert result.passed and result.score == pytest.approx(0.75)


def test_assertion_values_are_templates() -> None:
    assert grade_output("Hi Ada", "contains", "{{ name }}", vars={"name": "Ada"}).passed


def test_assert_output_failure_lists_every_verdict() -> None:
    with pytest.raises(AssertionError) as raised:
        assert_output("Hello", [{"type": "contains", "value": "x"}, {"type": "starts-with", "value": "He"}])
    assert str(raised.value).splitlines() == [
        "output does not contain 'x'",
        "output:",
        "    Hello",
        "assertions:",
        "  [FAIL] contains 'x' (score 0.00): output does not contain 'x'",
        "  [PASS] starts-with 'He' (score 1.00): output starts with 'He'",
    ]


def test_unknown_assertion_type_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"(?s)unknown assertion type 'icontain'.*did you mean 'icontains'"):
        grade_output("x", "icontain", "x")


def test_load_suite_returns_the_cases_of_the_items() -> None:
    cases = load_suite(EXAMPLE / "greetings.eval.yaml")
    assert cases and all(case.suite.file.name == "greetings.eval.yaml" for case in cases)
