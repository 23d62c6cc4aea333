"""``repeat`` in eval files: its shapes, defaultTest, and one clear error per bad value."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from pytest_replicate.errors import ConfigError
from pytest_replicate.suite.loader import load_eval_file
from pytest_replicate.suite.model import Repeat

HINT = "write repeat: N, or repeat: {count: N, reducer: all | mean | {at_least: K} | {pass_at: K}, threshold: 0.5}"


def load(tmp_path: Path, repeat: str, default: str = "") -> list[Repeat | None]:
    path = tmp_path / "suite.eval.yaml"
    path.write_text(textwrap.dedent(f"""\
        prompts: ["{{{{ x }}}}"]
        providers: [echo]
        {default}
        tests:
          - vars: {{x: a}}
            {repeat}
          - vars: {{x: b}}
        """), encoding="utf-8")
    return [test.repeat for test in load_eval_file(path).tests]


def problem(tmp_path: Path, repeat: str) -> ConfigError:
    """The first test's problem: its cases fail with it, the second test's run."""
    load(tmp_path, repeat)
    first, second = load_eval_file(tmp_path / "suite.eval.yaml").tests
    assert first.problem is not None and second.problem is None
    return first.problem


@pytest.mark.parametrize(("written", "repeat"), [
    ("repeat: 3", Repeat(3)),
    ("repeat: {count: 3}", Repeat(3)),
    ("repeat: {count: 3, reducer: all}", Repeat(3)),
    ("repeat: {count: 3, reducer: mean, threshold: 0.7}", Repeat(3, "mean", threshold=0.7)),
    ("repeat: {count: 3, reducer: {at_least: 2}}", Repeat(3, "at_least", 2)),
    ("repeat: {count: 3, reducer: {pass_at: 3}, threshold: 0.9}", Repeat(3, "pass_at", 3, 0.9)),
])
def test_repeat_shapes(tmp_path, written, repeat):
    assert load(tmp_path, written) == [repeat, None]


def test_default_test_repeat_applies_unless_a_test_has_its_own(tmp_path):
    assert load(tmp_path, "repeat: 2", default="defaultTest: {repeat: {count: 5, reducer: mean}}") == [
        Repeat(2), Repeat(5, "mean")]


@pytest.mark.parametrize(("written", "message", "hint"), [
    ("repeat: 0", "tests[0].repeat: 0 is less than the minimum of 1", HINT),
    ("repeat: 2.5", "tests[0].repeat: expected an integer or a mapping, got 2.5", HINT),
    ("repeat: {reducer: mean}", "tests[0].repeat: missing required key 'count'", HINT),
    ("repeat: {count: 3, reducer: best}", "tests[0].repeat.reducer: 'best' is not one of ['all', 'mean']", HINT),
    ("repeat: {count: 3, reducer: {pass_at: 0}}", "tests[0].repeat.reducer.pass_at: 0 is less than the minimum of 1",
     HINT),
    ("repeat: {count: 3, reducer: {at_least: 4}}", "tests[0].repeat.reducer: at_least: 4 needs 4 samples or more, "
     "and 3 are asked for", "raise count to 4 or more, or lower at_least"),
    ("repeat: {count: 3, threshold: 0.5}", "tests[0].repeat.threshold: the all reducer has no threshold: it counts "
     "passing samples", "a threshold goes with reducer: mean or reducer: {pass_at: K}"),
    ("repeat: {count: 3, reducer: mean, threshold: 1.5}", "tests[0].repeat.threshold: 1.5 is greater than the "
     "maximum of 1", HINT),
])
def test_a_bad_repeat_is_one_error_with_line_and_hint(tmp_path, written, message, hint):
    assert str(problem(tmp_path, written)).splitlines() == [f"{tmp_path / 'suite.eval.yaml'}:6: {message}", f"  hint: {hint}"]


def test_select_best_cannot_be_repeated(tmp_path):
    found = problem(tmp_path, "repeat: 2\n            assert: [{type: select-best, value: choose the shortest}]")
    assert found.message == "select-best compares one output per prompt and provider, so its test cannot be repeated"
    assert found.line == 6
