"""Repeated samples (``repeat``, ``--replicate-repeat``): each a prediction of its own, all in the
item's one cassette, replayed in order offline to the same verdict.

The simulated model ``acme/coin`` answers one prompt ``heads``, ``tails``, ``heads``, ``heads``
in turn, so with ``contains: heads`` a case's samples pass 3 times out of 4.
"""

from __future__ import annotations

import json

import pytest
import yaml

from pytest_replicate.simulator import BUILTIN, Simulator, parse_catalogue

COIN = parse_catalogue([{"model": "acme/coin", "answers": [{"when": "coin", "outputs": ["heads", "tails", "heads", "heads"]}]}])

RECORDER = """\
import json


def pytest_replicate_case_result(config, result):
    with open("results.jsonl", "a", encoding="utf-8") as file:
        file.write(json.dumps(result) + "\\n")
"""

# Each test tosses its own coin (its own prompt), so the model's turns do not mix across
# tests that run at once.
REDUCERS = {
    "all": ("4", "failed"),
    "at_least 3": ("{count: 4, reducer: {at_least: 3}}", "passed"),
    "at_least 4": ("{count: 4, reducer: {at_least: 4}}", "failed"),
    "mean": ("{count: 4, reducer: mean}", "passed"),  # 0.75 reaches the default 0.5
    "mean 0.8": ("{count: 4, reducer: mean, threshold: 0.8}", "failed"),
    "pass@1": ("{count: 4, reducer: {pass_at: 1}, threshold: 0.8}", "failed"),  # 0.75
    "pass@2": ("{count: 4, reducer: {pass_at: 2}, threshold: 0.99}", "passed"),  # 1 - C(1,2)/C(4,2) = 1
}


@pytest.fixture
def simulator():
    with Simulator(catalogue=BUILTIN.merged(COIN)) as server:
        yield server


def coin_suite(tests: dict[str, str]) -> str:
    lines = ['prompts: ["Toss coin {{ n }}"]', "providers:", "  - id: replicate:acme/coin",
             "    config: {poll_interval: 0.01}", "tests:"]
    for number, (name, repeat) in enumerate(tests.items()):
        lines += [f"  - description: {name}", f"    vars: {{n: '{number}'}}", f"    repeat: {repeat}",
                  "    assert: [{type: contains, value: heads}]"]
    return "\n".join(lines) + "\n"


def collected(pytester: pytest.Pytester) -> dict[str, dict]:
    """The results the hook received, by description; read once, then forgotten."""
    path = pytester.path / "results.jsonl"
    results = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    path.unlink()
    return {result["description"]: result for result in results}


def offline(monkeypatch: pytest.MonkeyPatch, simulator: Simulator) -> None:
    simulator.stop()
    monkeypatch.delenv("REPLICATE_API_TOKEN", raising=False)


def creates_in(cassette: dict) -> list[dict]:
    return [i for i in cassette["interactions"] if i["request"]["method"] == "POST"]


@pytest.mark.parametrize("args", [(), ("-p", "xdist", "-n", "2")], ids=["plain", "xdist"])
def test_each_reducer_gives_the_same_verdict_live_and_replayed(pytester, write_eval, replicate_env, monkeypatch,
                                                                 args):
    if args:
        pytest.importorskip("xdist")
    pytester.makeconftest(RECORDER)
    write_eval(coin_suite({name: repeat for name, (repeat, _) in REDUCERS.items()}))
    expected = {name: outcome == "passed" for name, (_, outcome) in REDUCERS.items()}

    live = pytester.runpytest(*args)
    live.assert_outcomes(passed=sum(expected.values()), failed=len(expected) - sum(expected.values()))
    recorded = collected(pytester)
    assert {name: result["passed"] for name, result in recorded.items()} == expected
    assert replicate_env.creates_per_model()["acme/coin"] == 4 * len(REDUCERS)  # nothing deduplicated
    cassettes = sorted(pytester.path.glob("cassettes/**/*.yaml"))
    assert len(cassettes) == len(REDUCERS)
    assert all(len(creates_in(yaml.safe_load(path.read_text()))) == 4 for path in cassettes)

    offline(monkeypatch, replicate_env)
    replayed_run = pytester.runpytest(*args, "--record-mode=none")
    replayed_run.assert_outcomes(passed=sum(expected.values()), failed=len(expected) - sum(expected.values()))
    replayed = collected(pytester)
    for name, result in recorded.items():
        again = replayed[name]
        assert [s["output"] for s in again["samples"]] == [s["output"] for s in result["samples"]] == [
            "heads", "tails", "heads", "heads"]
        assert [s["prediction_id"] for s in again["samples"]] == [s["prediction_id"] for s in result["samples"]]
        assert len({s["prediction_id"] for s in result["samples"]}) == 4
        assert (again["passed"], again["score"], again["repeat"]) == (result["passed"], result["score"], result["repeat"])
        assert again["live"] is False and result["live"] is True


def test_case_results_carry_every_sample_and_the_reduction(pytester, write_eval, replicate_env):
    pytester.makeconftest(RECORDER)
    write_eval(coin_suite({"three of four": "{count: 4, reducer: {pass_at: 2}}"}))
    pytester.runpytest().assert_outcomes(passed=1)
    result = collected(pytester)["three of four"]
    assert result["repeat"] == {
        "count": 4, "ran": 4, "passed": 3, "reducer": {"name": "pass_at", "k": 2, "threshold": 0.5},
        "mean_score": 0.75, "interval": pytest.approx([0.3006, 0.9544], abs=1e-4), "flaky": True}
    assert result["score"] == 1.0 and result["output"] == "heads"
    assert result["reason"] == "pass@2 1.00 (3 of 4 samples passed) reaches the threshold 0.5"
    second = result["samples"][1]
    assert (second["index"], second["passed"], second["score"], second["output"], second["error"]) == (
        2, False, 0.0, "tails", None)
    assert second["assertions"][0]["reason"] == "output does not contain 'heads'"
    assert second["latency_ms"] is not None and second["prediction_id"]


def test_the_failure_view_shows_the_tally_and_each_failing_sample(pytester, write_eval, replicate_env):
    write_eval(coin_suite({"coin": "{count: 4, reducer: {at_least: 4}}"}))
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "3 of 4 samples passed; at least 4 must pass",
        "provider: replicate:acme/coin",
        "samples: 3 of 4 passed (at_least 4), mean score 0.75, 95% interval 0.30-0.95, flaky",
        "  sample 2 [FAIL] score 0.00: output does not contain 'heads'",
        "      output: tails",
        "FAILED *coin* - 3 of 4 *",
    ])
    assert "sample 1 [" not in result.stdout.str()


def test_a_cassette_with_fewer_samples_is_a_miss_naming_both_numbers(pytester, write_eval, replicate_env,
                                                                      monkeypatch):
    write_eval(coin_suite({"coin": "2"}))
    pytester.runpytest().assert_outcomes(failed=1)  # heads, tails
    offline(monkeypatch, replicate_env)
    result = pytester.runpytest("--record-mode=none", "--replicate-repeat=4")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "cassette miss: the cassette holds 2 samples of this case, 4 were asked for",
        "error:",
        "    cassette miss: the cassette holds 2 samples of this case, 4 were asked for",
        "      cassette: cassettes/suite.eval/coin*.yaml",
        "      record all 4 again: REPLICATE_API_TOKEN=... pytest 'suite.eval.yaml::coin*' --record-mode=rewrite",
        "samples: 1 of 2 passed (all), mean score 0.50, 95% interval 0.09-0.91, flaky",
        "  sample 2 [FAIL] score 0.00: output does not contain 'heads'",
    ])


def test_new_episodes_cannot_add_samples_and_says_so(pytester, write_eval, replicate_env):
    """vcrpy's new_episodes plays back what it has just recorded: sample 4 would be sample 3 again."""
    write_eval(coin_suite({"coin": "{count: 2, reducer: {at_least: 1}}"}))
    pytester.runpytest().assert_outcomes(passed=1)
    (cassette,) = pytester.path.glob("cassettes/**/*.yaml")
    before = cassette.read_text()
    result = pytester.runpytest("--record-mode=new_episodes", "--replicate-repeat=4")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["sample 4 of 4 replayed the prediction of sample 3 (*): the new_episodes record "
                                 "mode plays back what it has just recorded, so it cannot add samples to a "
                                 "cassette; record them all again with --record-mode=rewrite"])
    assert cassette.read_text() == before  # not saved with a duplicate
    pytester.runpytest("--record-mode=rewrite", "--replicate-repeat=4").assert_outcomes(passed=1)
    assert len(creates_in(yaml.safe_load(cassette.read_text()))) == 4


def test_the_command_line_count_wins_over_the_file(pytester, write_eval, replicate_env):
    pytester.makeconftest(RECORDER)
    write_eval(coin_suite({"coin": "{count: 4, reducer: {at_least: 3}}"}) + "defaultTest: {repeat: 5}\n")
    pytester.runpytest("--replicate-repeat=3").assert_outcomes(failed=1)  # heads, tails, heads
    result = collected(pytester)["coin"]
    assert (result["repeat"]["count"], result["repeat"]["reducer"]["name"], len(result["samples"])) == (3, "at_least", 3)
    assert replicate_env.creates_per_model()["acme/coin"] == 3


def test_default_test_repeats_every_test_and_a_test_may_override_it(pytester, write_eval):
    pytester.makeconftest(RECORDER)
    write_eval("""
        prompts: ["{{ out }}"]
        providers: [echo]
        defaultTest: {repeat: {count: 3, reducer: mean}}
        tests:
          - description: inherits
            vars: {out: a}
          - description: own
            vars: {out: b}
            repeat: 2
    """)
    pytester.runpytest().assert_outcomes(passed=2)
    results = collected(pytester)
    assert (results["inherits"]["repeat"]["count"], results["inherits"]["repeat"]["reducer"]["name"]) == (3, "mean")
    assert (results["own"]["repeat"]["count"], results["own"]["repeat"]["reducer"]["name"]) == (2, "all")


def test_a_command_line_count_below_a_reducer_k_is_a_collection_error(pytester, write_eval):
    write_eval("""
        prompts: ["{{ out }}"]
        providers: [echo]
        tests:
          - vars: {out: a}
            repeat: {count: 5, reducer: {at_least: 4}}
    """)
    result = pytester.runpytest("--replicate-repeat=2")
    result.stdout.fnmatch_lines([
        "suite.eval.yaml:5: tests[0]: at_least: 4 needs 4 samples or more, and 2 are asked for (--replicate-repeat 2)",
        "  hint: give --replicate-repeat a count these tests can use, or change their repeat",
    ])


def test_a_bad_repeat_is_one_config_error_with_line_and_hint(pytester, write_eval):
    write_eval("""
        prompts: ["{{ out }}"]
        providers: [echo]
        tests:
          - vars: {out: a}
            repeat: {count: 3, reducer: {atleast: 2}}
    """)
    result = pytester.runpytest()
    result.stdout.fnmatch_lines([
        "suite.eval.yaml:6: tests[0].repeat.reducer.atleast: unknown key 'atleast'",
        "  hint: did you mean 'at_least'?",
    ])


@pytest.mark.parametrize("args", [(), ("-p", "xdist", "-n", "2")], ids=["plain", "xdist"])
def test_pytest_repeat_count_is_refused_for_eval_files(pytester, write_eval, args):
    pytest.importorskip("pytest_repeat")
    if args:
        pytest.importorskip("xdist")
    write_eval('prompts: ["{{ out }}"]\nproviders: [echo]\ntests:\n  - vars: {out: a}\n')
    result = pytester.runpytest("-p", "pytest_repeat", "--count=3", *args)
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*--count=3 (pytest-repeat) does not repeat eval items, which would run once each: "
                                 "use --replicate-repeat=3 to run each eval case 3 times, or --ignore the eval files"])
    assert pytester.runpytest("-p", "pytest_repeat", "--count=1").ret == 0


def test_each_sample_is_graded_through_the_cassette_and_replayed(pytester, write_eval, replicate_env, monkeypatch):
    """Identical grading requests of several samples are recorded and replayed in order too."""
    pytester.makeconftest(RECORDER)
    write_eval("""
        prompts: ["{{ out }}"]
        providers: [echo]
        tests:
          - description: graded
            vars: {out: "Hello there, friend!"}
            repeat: 3
            assert: [{type: llm-rubric, value: mentions hello}]
    """)
    pytester.runpytest().assert_outcomes(passed=1)
    assert replicate_env.creates_per_model() == {"meta/meta-llama-3-70b-instruct": 3}
    live = collected(pytester)["graded"]
    offline(monkeypatch, replicate_env)
    pytester.runpytest("--record-mode=none").assert_outcomes(passed=1)
    replayed = collected(pytester)["graded"]
    assert replayed["samples"] == [{**sample, "duration": again["duration"]}
                                   for sample, again in zip(live["samples"], replayed["samples"], strict=True)]
    assert [s["assertions"][0]["passed"] for s in replayed["samples"]] == [True] * 3


def test_alike_failing_samples_share_one_entry_in_full_under_vv(pytester, write_eval):
    write_eval("""
        prompts: ["{{ out }}"]
        providers: [echo]
        tests:
          - description: same each time
            vars: {out: hello}
            repeat: {count: 3, reducer: mean, threshold: 0.9}
            assert: [{type: contains, value: bye}, {type: contains, value: hello}]
    """)
    result = pytester.runpytest("-vv")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "mean score 0.50 (0 of 3 samples passed) is below the threshold 0.9",
        "samples: 0 of 3 passed (mean), mean score 0.50, 95% interval 0.00-0.56",
        "  samples 1, 2, 3 [FAIL] score 0.50: output does not contain 'bye'",
        "      output:",
        "        hello",
        "      [FAIL] contains 'bye' (score 0.00): output does not contain 'bye'",
        "      [PASS] contains 'hello' (score 1.00): output contains 'hello'",
    ])


def test_the_summary_and_the_json_report_show_the_samples(pytester, monkeypatch, simulator):
    from jsonschema import Draft202012Validator

    from pytest_replicate.report.json_report import report_schema

    monkeypatch.setenv("REPLICATE_BASE_URL", simulator.url)
    monkeypatch.setenv("REPLICATE_API_TOKEN", "r8_test_samples")
    (pytester.path / "coin.eval.yaml").write_text(coin_suite({"tosses": "4"}))
    result = pytester.runpytest("--replicate-json=report.json")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*samples passed*3/4 [[]0.30-0.95[]]*",
                                 "*replicate flaky cases*", "*3/4 samples passed, mean score 0.75*"])
    document = json.loads((pytester.path / "report.json").read_text(encoding="utf-8"))
    assert not list(Draft202012Validator(report_schema()).iter_errors(document))
    (file,) = document["files"]
    assert file["figures"]["samples"]["passed"] == 3 and file["figures"]["samples"]["flaky"] == 1
    assert file["cases"][0]["repeat"]["ran"] == 4 and len(file["cases"][0]["samples"]) == 4
