"""Knowing before paying: what a run spent live, --replicate-max-cost, and --replicate-plan.

The simulator reports token counts (words of the prompt, of the output), so a per-token price
gives every live call a known, repeatable cost.
"""

from __future__ import annotations

import json

import pytest

# $0.0001 per input and output token: the simulator's llama answer to "Say hello to number N" costs
# under a cent, and the same every time.
PRICED = "inputCost: 0.0001, outputCost: 0.0001, poll_interval: 0.02, wait: 0"


def suite(cases: int, *, config: str = PRICED, asserts: str = "") -> str:
    tests = "".join(f"  - description: c{i}\n    vars: {{n: '{i}'}}\n{asserts}" for i in range(cases))
    return ('prompts: ["Say hello to number {{ n }}"]\n'
            f"providers:\n  - id: replicate:meta/llama-2-7b-chat\n    config: {{{config}}}\n"
            f"tests:\n{tests}")


def report(pytester: pytest.Pytester, name: str = "report.json") -> dict:
    return json.loads((pytester.path / name).read_text(encoding="utf-8"))


def cost_of_one(pytester: pytest.Pytester) -> float:
    """What one item's live call cost, from the JSON report of a run that recorded one."""
    return report(pytester)["files"][0]["cases"][0]["cost"]


# -- what the run spent -------------------------------------------------------------------------


def test_the_summary_shows_what_the_run_spent_live(pytester, write_eval, replicate_env):
    write_eval(suite(3))
    result = pytester.runpytest("--replicate-json=report.json")
    result.assert_outcomes(passed=3)
    spend = report(pytester)["run"]["spend"]
    costs = [case["cost"] for case in report(pytester)["files"][0]["cases"]]
    assert spend["calls"] == 3 and spend["unpriced"] == 0 and spend["limit"] is None and spend["skipped"] == 0
    assert spend["dollars"] == pytest.approx(sum(costs)) and spend["dollars"] > 0
    result.stdout.fnmatch_lines(["*replicate spend*", "spent live: $0.0* on 3 live calls"])
    replayed = pytester.runpytest("--replicate-json=report.json")  # from the cassettes: free
    replayed.assert_outcomes(passed=3)
    replayed.stdout.fnmatch_lines(["spent live: $0 (no live calls)"])
    assert report(pytester)["run"]["spend"]["calls"] == 0


def test_calls_without_a_price_are_counted_as_of_unknown_cost(pytester, write_eval, replicate_env):
    write_eval(suite(2, config="poll_interval: 0.02, wait: 0"))
    result = pytester.runpytest("--replicate-json=report.json")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["spent live: $0 on 2 live calls (2 of unknown cost: no price in their provider "
                                 "config*"])
    assert report(pytester)["run"]["spend"] == {"dollars": 0, "calls": 2, "unpriced": 2, "limit": None,
                                                 "skipped": 0}


def test_grader_calls_count_in_the_spend(pytester, write_eval, replicate_env):
    write_eval(suite(1, asserts="    assert: [{type: llm-rubric, value: is a greeting, "
                                "provider: {id: 'replicate:meta/meta-llama-3-70b-instruct', "
                                "config: {inputCost: 0.01, outputCost: 0.01}}}]\n"))
    result = pytester.runpytest("--replicate-json=report.json")
    result.assert_outcomes(passed=1)
    spend = report(pytester)["run"]["spend"]
    assert spend["calls"] == 2 and spend["unpriced"] == 0
    assert spend["dollars"] > cost_of_one(pytester)  # the grader's call cost something too


# -- --replicate-max-cost -----------------------------------------------------------------------


@pytest.mark.parametrize("concurrency", ["1", "3"])
def test_max_cost_skips_the_items_left_that_would_call_live(pytester, write_eval, replicate_env, concurrency):
    write_eval(suite(1))
    pytester.runpytest("--replicate-json=report.json", "--record-mode=rewrite").assert_outcomes(passed=1)
    one = cost_of_one(pytester)
    write_eval(suite(8))
    # Reached after two calls: calls in flight finish, so at most `concurrency` more start before it is seen.
    result = pytester.runpytest("-rs", "--record-mode=rewrite", f"--replicate-max-cost={one * 1.5}",
                                f"--replicate-concurrency={concurrency}", "--replicate-json=report.json")
    outcomes = result.parseoutcomes()
    spend = report(pytester)["run"]["spend"]
    assert outcomes["passed"] == spend["calls"] >= 2
    assert outcomes["skipped"] == spend["skipped"] == 8 - spend["calls"] >= 8 - 2 - int(concurrency)
    assert spend["dollars"] == pytest.approx(one * spend["calls"])
    result.stdout.fnmatch_lines([f"spent live: $* on {spend['calls']} live calls; max cost ${one * 1.5:.4g}, reached: "
                                 f"{spend['skipped']} items skipped",
                                 f"SKIPPED * suite.eval.yaml:*: replicate max cost ${one * 1.5:.4g} reached "
                                 "(spent $* on * live calls)"])
    skipped = [case for case in report(pytester)["files"][0]["cases"] if case["outcome"] == "skipped"]
    assert all(case["skipped"].startswith("replicate max cost") and case["cassette"] for case in skipped)
    assert not any(case["live"] for case in skipped)


def test_max_cost_lets_replayed_items_run(pytester, write_eval, replicate_env):
    write_eval(suite(3))
    pytester.runpytest().assert_outcomes(passed=3)  # recorded
    write_eval(suite(5))  # two new items, with no cassette
    result = pytester.runpytest("--replicate-max-cost=0", "--replicate-json=report.json")
    result.assert_outcomes(passed=3, skipped=2)
    assert report(pytester)["run"]["spend"]["calls"] == 0
    result.stdout.fnmatch_lines(["spent live: $0 (no live calls); max cost $0, reached: 2 items skipped"])
    # Nothing was recorded for the skipped items: the next run records them.
    pytester.runpytest().assert_outcomes(passed=5)


def test_max_cost_from_the_ini_file(pytester, write_eval, replicate_env):
    pytester.makeini("[pytest]\nreplicate_max_cost = $0\n")
    write_eval(suite(2))
    pytester.runpytest().assert_outcomes(skipped=2)
    pytester.runpytest("--replicate-max-cost=100").assert_outcomes(passed=2)  # the command line wins


@pytest.mark.parametrize("value", ["-1", "lots", "nan"])
def test_a_bad_max_cost_is_one_usage_error(pytester, write_eval, value):
    write_eval(suite(1))
    result = pytester.runpytest(f"--replicate-max-cost={value}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*--replicate-max-cost = '{value}': give an amount in dollars, 0 or more*"])


def test_max_cost_is_shared_by_xdist_workers(pytester, write_eval, replicate_env):
    pytest.importorskip("xdist")
    write_eval(suite(1))
    pytester.runpytest("--replicate-json=report.json", "--record-mode=rewrite").assert_outcomes(passed=1)
    one = cost_of_one(pytester)
    write_eval(suite(10))
    result = pytester.runpytest("-p", "xdist", "-n", "2", "--record-mode=rewrite", "--replicate-concurrency=1",
                                f"--replicate-max-cost={one * 2.5}", "--replicate-json=report.json")
    spend = report(pytester)["run"]["spend"]
    # Three calls reach the limit; each worker may have had one more in flight.
    assert 3 <= spend["calls"] <= 5
    result.assert_outcomes(passed=spend["calls"], skipped=10 - spend["calls"])
