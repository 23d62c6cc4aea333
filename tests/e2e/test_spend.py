"""Knowing before paying: what a run spent live, --replicate-max-cost, and --replicate-plan.

The simulator reports token counts (words of the prompt, of the output), so a per-token price
gives every live call a known, repeatable cost.
"""

from __future__ import annotations

import json

import pytest
from jsonschema import Draft202012Validator

from pytest_replicate.report.json_report import report_schema
from pytest_replicate.text import dollars

# $0.0001 per input and output token: the simulator's llama answer to "Say hello to number N" costs
# under a cent, and the same every time.
PRICED = "inputCost: 0.0001, outputCost: 0.0001, poll_interval: 0.02, wait: 0"


def suite(cases: int, *, config: str = PRICED, asserts: str = "") -> str:
    tests = "".join(f"  - description: c{i}\n    vars: {{n: '{i}'}}\n{asserts}" for i in range(cases))
    return ('prompts: ["Say hello to number {{ n }}"]\n'
            f"providers:\n  - id: replicate:meta/llama-2-7b-chat\n    config: {{{config}}}\n"
            f"tests:\n{tests}")


def report(pytester: pytest.Pytester, name: str = "report.json") -> dict:
    """The JSON report, checked against its schema."""
    document = json.loads((pytester.path / name).read_text(encoding="utf-8"))
    Draft202012Validator(report_schema()).validate(document)
    return document


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
    result.stdout.fnmatch_lines([f"spent live: $* on {spend['calls']} live calls; max cost {dollars(one * 1.5)}, reached: "
                                 f"{spend['skipped']} items skipped",
                                 f"SKIPPED * suite.eval.yaml:*: replicate max cost {dollars(one * 1.5)} reached "
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


# -- --replicate-plan ---------------------------------------------------------------------------

RUBRIC = "    assert: [{type: llm-rubric, value: is a greeting}]\n"


def test_the_plan_calls_nothing_and_says_which_items_would_go_live(pytester, write_eval, replicate_env):
    write_eval(suite(2))
    pytester.runpytest().assert_outcomes(passed=2)  # c0 and c1 recorded
    write_eval(suite(4, config="poll_interval: 0.02, wait: 0, max_new_tokens: 50, inputCost: 0.0001, "
                               "outputCost: 0.0002", asserts=RUBRIC))
    created = len(replicate_env.predictions_created())
    result = pytester.runpytest("--replicate-plan", "-rs", "--replicate-json=report.json")
    assert result.ret == 0
    result.assert_outcomes(skipped=4)
    assert len(replicate_env.predictions_created()) == created  # nothing was called
    assert not list((pytester.path / "cassettes").rglob("c2*"))  # nor recorded
    result.stdout.fnmatch_lines([
        "*replicate plan (calls nothing)*",
        "4 items: 2 would call models live, 2 would replay their cassettes",
        "  live, as each has no cassette yet: record mode once records it:",
        "    suite.eval.yaml::c2[[]Say hello to number {{ n }}-replicate:meta/llama-2-*",
        "    suite.eval.yaml::c3[[]*",
        "  replicate:meta/llama-2-7b-chat (provider): 2 live calls, estimated $0.02*",
        "    at most: the prompt's tokens (~4 characters each) x $0.0001 + up to 50 output tokens (max_new_tokens) "
        "x $0.0002",
        "  replicate:meta/meta-llama-3-70b-instruct (grader): at least 2 live calls, cost unknown",
        "    no price known: set config.costPerSecond *",
        "  total: at least 4 live calls, estimated $0.02*, + 2 of unknown cost",
        "*SKIPPED*plan only (--replicate-plan): nothing was called*",
    ])
    plan = report(pytester)["run"]["plan"]
    assert plan["items"] == {"replay": 2, "live": 2}
    provider, grader = plan["models"]
    assert provider["calls"] == 2 and provider["unestimated"] == 0 and not provider["at_least"]
    assert provider["estimate"] == pytest.approx(2 * (6 * 0.0001 + 50 * 0.0002))
    assert grader == {"model": "replicate:meta/meta-llama-3-70b-instruct", "role": "grader", "calls": 2,
                      "at_least": True, "estimate": 0, "unestimated": 2, "bases": [grader["bases"][0]]}
    assert report(pytester)["run"]["spend"]["calls"] == 0
    cases = {case["name"].split("[")[0]: case["plan"] for case in report(pytester)["files"][0]["cases"]}
    assert cases["c0"] == {"route": "replay", "why": "replays its cassette", "calls": []}
    assert cases["c2"]["route"] == "live" and [call["role"] for call in cases["c2"]["calls"]] == ["provider", "grader"]


def test_the_html_report_shows_the_spend_and_the_plan(pytester, write_eval, replicate_env):
    write_eval(suite(2))
    pytester.runpytest("--replicate-html=run.html", "--replicate-max-cost=1").assert_outcomes(passed=2)
    html = (pytester.path / "run.html").read_text(encoding="utf-8")
    assert 'id="spend"' in html and "Spent live" in html and "2 live calls; max $1.00" in html
    assert 'id="plan"' not in html
    pytester.runpytest("--replicate-html=run.html", "--replicate-plan", "--record-mode=rewrite").assert_outcomes(
        skipped=2)
    html = (pytester.path / "run.html").read_text(encoding="utf-8")
    assert 'id="plan"' in html and "<code>replicate:meta/llama-2-7b-chat</code>" in html and "<code>total</code>" in html


@pytest.mark.parametrize(("options", "env", "line"), [
    (["--record-mode=none"], {}, "1 item: 1 would fail: no cassette, and the record mode records none"),
    ([], {"CI": "true"}, "1 item: 1 would fail: no cassette, and the record mode records none"),
    ([], {"REPLICATE_API_TOKEN": None}, "1 item: 1 would fail before any call is billed: no Replicate API token"),
])
def test_the_plan_knows_what_would_not_go_live(pytester, write_eval, replicate_env, monkeypatch, options, env, line):
    for name, value in env.items():
        if value is None:
            monkeypatch.delenv(name)
        else:
            monkeypatch.setenv(name, value)
    write_eval(suite(1))
    result = pytester.runpytest("--replicate-plan", *options)
    assert result.ret == 0
    result.stdout.fnmatch_lines([line, "  total: 0 live calls"])


def test_the_plan_counts_rerecording_and_repeats(pytester, write_eval, replicate_env):
    write_eval(suite(2, config="costPerSecond: 0.001"))
    pytester.runpytest().assert_outcomes(passed=2)
    result = pytester.runpytest("--replicate-plan", "--record-mode=rewrite", "--replicate-repeat=3")
    result.stdout.fnmatch_lines([
        "2 items: 2 would call models live",
        "  replicate:meta/llama-2-7b-chat (provider): 6 live calls, cost unknown",
        "    unknown: billed by run time (config.costPerSecond), which is known only after the call",
    ])


def test_the_plan_skips_tests_using_the_fixtures(pytester, replicate_env):
    pytester.makepyfile("""
        def test_model(replicate_provider):
            replicate_provider("replicate:meta/llama-2-7b-chat")("hi")

        def test_plain():
            pass
    """)
    created = len(replicate_env.predictions_created())
    result = pytester.runpytest("--replicate-plan")
    result.assert_outcomes(passed=1, skipped=1)
    assert len(replicate_env.predictions_created()) == created


def test_max_cost_applies_to_drift_runs(pytester, write_eval, replicate_env):
    write_eval(suite(2))
    pytester.runpytest().assert_outcomes(passed=2)
    result = pytester.runpytest("--replicate-drift", "--replicate-max-cost=0", "--replicate-json=report.json")
    result.assert_outcomes(skipped=2)
    assert report(pytester)["run"]["spend"]["calls"] == 0


def test_the_plan_is_the_same_under_xdist(pytester, write_eval, replicate_env):
    pytest.importorskip("xdist")
    write_eval(suite(4, asserts=RUBRIC))
    pytester.runpytest("-k", "c0 or c1").assert_outcomes(passed=2)
    pytester.runpytest("--replicate-plan", "--replicate-json=report.json").assert_outcomes(skipped=4)
    plain = report(pytester)["run"]["plan"]
    result = pytester.runpytest("-p", "xdist", "-n", "2", "--replicate-plan", "--replicate-json=report.json")
    result.assert_outcomes(skipped=4)
    assert report(pytester)["run"]["plan"] == plain
    assert plain["items"] == {"replay": 2, "live": 2} and plain["total"]["calls"] == 4
