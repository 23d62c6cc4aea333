"""Drift's comparison and summary lines, without a model: what changed, the diff, the counts."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_replicate.assertions import GradingResult
from pytest_replicate.providers.base import ImageOutput, ProviderResponse
from pytest_replicate.report.drift import MAX_ITEMS, drift_lines
from pytest_replicate.results.case import CaseResult
from pytest_replicate.run.drift import DIFF_LINES, compare, drifted, output_diff
from pytest_replicate.suite.expand import expand
from pytest_replicate.suite.loader import load_eval_file
from pytest_replicate.suite.model import Case


@pytest.fixture
def case(tmp_path: Path) -> Case:
    path = tmp_path / "a.eval.yaml"
    path.write_text("prompts: ['{{ x }}']\nproviders: [echo]\ntests: [{vars: {x: a}}]\n", encoding="utf-8")
    return expand(load_eval_file(path))[0]


def result(case: Case, output: object, passed: bool = True, error: str | None = None, **response: object) -> CaseResult:
    grading = None if error else GradingResult(passed, 1.0 if passed else 0.0, "")
    return CaseResult(case, output=output, grading=grading, error=error,
                      response=ProviderResponse(output=output, **response))  # type: ignore[arg-type]


def test_same_output_and_verdict_is_no_drift(case: Case) -> None:
    drift = compare(result(case, "Paris"), result(case, "Paris"))
    assert drift == {"output_changed": False, "verdict": None, "diff": None, "updated": False,
                     "replayed": {"passed": True, "score": 1.0, "output": "Paris", "error": None}}
    assert not drifted(drift)


def test_verdicts_flip_both_ways(case: Case) -> None:
    assert compare(result(case, "x"), result(case, "x", passed=False))["verdict"] == "pass→fail"
    assert compare(result(case, "x", passed=False), result(case, "x"))["verdict"] == "fail→pass"
    assert drifted(compare(result(case, "x"), result(case, "x", passed=False)))  # the output alone held


def test_without_a_cassette_nothing_is_compared(case: Case) -> None:
    drift = compare(None, result(case, "Paris"))
    assert drift["replayed"] is None and not drifted(drift)


def test_a_one_line_output_shows_the_changed_region_with_a_little_context() -> None:
    before = "The weather today is " + "very " * 20 + "sunny in Paris, and tomorrow " + "too " * 20
    after = before.replace("Paris", "Lyon")
    old, new = output_diff(before, after).splitlines()
    assert old.startswith("- ...") and old.endswith("...") and "sunny in Paris, and" in old
    assert new.startswith("+ ...") and "sunny in Lyon, and" in new
    assert len(old) < 80


def test_a_short_one_line_output_is_shown_whole() -> None:
    assert output_diff("Paris", "Lyon") == "- Paris\n+ Lyon"


def test_a_multi_line_output_is_a_unified_diff_of_a_few_lines() -> None:
    before = "\n".join(f"line {n}" for n in range(40))
    after = "\n".join(f"line {n}" if n % 3 else f"LINE {n}" for n in range(40))
    lines = output_diff(before, after).splitlines()
    assert lines[0].startswith("@@") and "-line 0" in lines and "+LINE 0" in lines
    assert len(lines) == DIFF_LINES and lines[-1].endswith("more lines)")


def test_structured_outputs_compare_as_json(case: Case) -> None:
    drift = compare(result(case, {"a": 1, "b": [1, 2]}), result(case, {"b": [1, 2], "a": 2}))
    assert drift["output_changed"] and drift["diff"] == '@@ -1,3 +1,3 @@\n {\n-  "a": 1,\n+  "a": 2,\n   "b": ['


def test_an_output_that_became_an_error_says_why(case: Case) -> None:
    drift = compare(result(case, "Paris"), result(case, None, error="model failed: out of memory\nmore"))
    assert drift["diff"] == "- Paris\n+ (no output: model failed: out of memory)"
    assert drift["verdict"] == "pass→fail"


def test_images_compare_by_their_bytes_not_their_url(case: Case) -> None:
    def image(data: bytes, url: str) -> CaseResult:
        picture = ImageOutput(data, "image/png", 2, 2, url)
        return result(case, f"![cat]({url})", image=picture)

    assert not compare(image(b"png", "https://a/1.png"), image(b"png", "https://a/2.png"))["output_changed"]
    drift = compare(image(b"png", "https://a/1.png"), image(b"png!", "https://a/2.png"))
    assert drift["output_changed"] and "3 bytes" in (drift["diff"] or "") and "4 bytes" in (drift["diff"] or "")


def a_dict(nodeid: str, verdict: str | None = None, changed: bool = True, cost: float | None = 0.01,
           updated: bool = False, replayed: bool = True) -> dict:
    return {"nodeid": nodeid, "cost": cost, "drift": {
        "output_changed": changed, "verdict": verdict, "diff": "- a\n+ b" if changed else None, "updated": updated,
        "replayed": {"passed": True, "score": 1.0, "output": "a", "error": None} if replayed else None}}


def test_summary_counts_then_lists_flips_first() -> None:
    results = [a_dict("t::same", changed=False), a_dict("t::changed", updated=True),
               a_dict("t::broke", "pass→fail"), a_dict("t::fixed", "fail→pass", cost=None),
               a_dict("t::new", changed=False, replayed=False), {"nodeid": "t::plain", "cost": 1.0, "drift": None}]
    assert drift_lines(results) == [
        "4 compared with their cassettes: 3 outputs changed, 1 pass→fail, 1 fail→pass, 1 cassette updated",
        "1 without a cassette (nothing to compare; record them with --record-mode=once)",
        "spent live: $0.040000 (1 calls of unknown cost)",
        "pass→fail: t::broke",
        "    - a",
        "    + b",
        "fail→pass: t::fixed",
        "    - a",
        "    + b",
        "output changed: t::changed (cassette updated)",
        "    - a",
        "    + b",
    ]


def test_summary_lists_at_most_a_few_items_and_nothing_without_drift() -> None:
    lines = drift_lines([a_dict(f"t::{n}") for n in range(MAX_ITEMS + 2)])
    assert lines[-1] == "... and 2 more drifted items"
    assert drift_lines([{"nodeid": "t::plain", "cost": None, "drift": None}]) == []
