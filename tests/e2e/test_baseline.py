"""--replicate-baseline: this run against a JSON report of an earlier one, case by case
(matched by node id); --replicate-fail-on-regression fails the session on a pass→fail flip."""

from __future__ import annotations

import json
from typing import Any

import pytest


def suite(cases: dict[str, tuple[str, str]]) -> str:
    """An echo suite: description -> (output, assertions)."""
    tests = "".join(f"  - description: {name}\n    vars: {{out: '{out}'}}\n    {asserts}\n"
                    for name, (out, asserts) in cases.items())
    return f"prompts: ['{{{{ out }}}}']\nproviders: [echo]\ntests:\n{tests}"


HELL = "assert: [{type: contains, value: hell}]"
SCORED = "threshold: 0.5\n    assert: [{type: contains, value: hell}, {type: contains, value: world}]"
BEFORE = {"keep": ("hello", HELL), "drops": ("hello", HELL), "rises": ("bye", HELL),
          "scored": ("hello", SCORED), "reworded": ("hello there", HELL), "removed": ("hello", HELL)}
AFTER = {"keep": ("hello", HELL), "drops": ("bye", HELL), "rises": ("hello", HELL),
         "scored": ("hello world", SCORED), "reworded": ("hello friend", HELL), "added": ("hello", HELL)}


def node(name: str) -> str:
    return f"suite.eval.yaml::{name}[{{{{ out }}}}-echo]"


@pytest.fixture
def baseline(pytester, write_eval):
    """The first run's JSON report; the eval file then holds AFTER."""
    write_eval(suite(BEFORE))
    pytester.runpytest("--replicate-json=baseline.json").assert_outcomes(passed=5, failed=1)
    write_eval(suite(AFTER))
    return "--replicate-baseline=baseline.json"


def report(pytester, *args: str) -> tuple[pytest.RunResult, dict[str, Any]]:
    result = pytester.runpytest("--replicate-json=now.json", *args)
    return result, json.loads((pytester.path / "now.json").read_text(encoding="utf-8"))


def test_each_case_is_compared_with_the_baseline(pytester, baseline):
    result, document = report(pytester, baseline)
    result.assert_outcomes(passed=5, failed=1)
    changes = {case["description"]: case["comparison"] for case in document["files"][0]["cases"]}
    assert changes == {
        "keep": {"status": "unchanged", "verdict": None, "baseline_score": 1.0, "score_delta": 0.0,
                 "output_changed": False},
        "drops": {"status": "changed", "verdict": "pass→fail", "baseline_score": 1.0, "score_delta": -1.0,
                  "output_changed": True},
        "rises": {"status": "changed", "verdict": "fail→pass", "baseline_score": 0.0, "score_delta": 1.0,
                  "output_changed": True},
        "scored": {"status": "changed", "verdict": None, "baseline_score": 0.5, "score_delta": 0.5,
                   "output_changed": True},
        "reworded": {"status": "changed", "verdict": None, "baseline_score": 1.0, "score_delta": 0.0,
                     "output_changed": True},
        "added": {"status": "new", "verdict": None, "baseline_score": None, "score_delta": None,
                  "output_changed": False},
    }
    counts = {"pass_to_fail": 1, "fail_to_pass": 1, "score_changed": 3, "output_changed": 4, "new": 1, "gone": 1}
    assert document["comparison"] == {"baseline": "baseline.json", "counts": counts,
                                      "files": {"suite.eval.yaml": counts}, "regressions": [node("drops")],
                                      "gone": [node("removed")]}
    assert document["gate"] is None and result.ret == pytest.ExitCode.TESTS_FAILED


@pytest.mark.parametrize("narrowing", [("-k", "not keep"), (node("drops"),), ("-x",), ("--deselect", node("keep"))],
                         ids=["-k", "node id", "-x", "--deselect"])
def test_a_partial_run_reports_nothing_gone(pytester, baseline, narrowing):
    _, document = report(pytester, baseline, *narrowing)
    assert document["comparison"]["gone"] == [] and document["comparison"]["counts"]["gone"] == 0
    assert document["comparison"]["regressions"] == [node("drops")]


def test_a_regression_fails_the_session_even_when_the_pass_rate_is_met(pytester, baseline):
    result, document = report(pytester, baseline, "--replicate-min-pass-rate=0.5")
    assert result.ret == pytest.ExitCode.OK  # 5 of 6 pass; the failing case alone does not fail the session
    result, document = report(pytester, baseline, "--replicate-min-pass-rate=0.5", "--replicate-fail-on-regression")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert document["gate"] == {"failed": True, "reasons": [
        f"1 case passed in the baseline and fails now: {node('drops')}"], "notes": []}
    result.assert_outcomes(passed=5, failed=1)


def test_no_regression_no_failure(pytester, write_eval):
    write_eval(suite({"keep": ("hello", HELL)}))
    pytester.runpytest("--replicate-json=baseline.json").assert_outcomes(passed=1)
    result, document = report(pytester, "--replicate-baseline=baseline.json", "--replicate-fail-on-regression")
    assert result.ret == pytest.ExitCode.OK and document["gate"] == {"failed": False, "reasons": [], "notes": []}


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (None, "the file does not exist"),
        ("{not json", "the file is not JSON (line 1: Expecting property name enclosed in double quotes)"),
        ('{"schema_version": 2, "files": []}', "the file has schema_version 2, this plugin reads 1"),
        ('{"schema_version": 1, "files": []}',
         "the file is not a pytest-replicate JSON report (at the top: 'generator' is a required property)"),
    ],
    ids=["missing", "malformed", "other version", "not a report"],
)
def test_an_unusable_baseline_is_one_usage_error(pytester, write_eval, content, problem):
    write_eval(suite({"keep": ("hello", HELL)}))
    if content is not None:
        (pytester.path / "old.json").write_text(content, encoding="utf-8")
    result = pytester.runpytest("--replicate-baseline=old.json")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"ERROR: --replicate-baseline=old.json: {problem}. Give a JSON report written by "
                                 "--replicate-json (schema_version 1), *or leave the option out"])
    assert len([line for line in result.stderr.lines if line.strip()]) == 1


def test_fail_on_regression_needs_a_baseline(pytester, write_eval):
    write_eval(suite({"keep": ("hello", HELL)}))
    result = pytester.runpytest("--replicate-fail-on-regression")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: --replicate-fail-on-regression needs a run to compare with: add "
                                 "--replicate-baseline=PATH*"])
