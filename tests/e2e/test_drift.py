"""``--replicate-drift``: each eval item replayed from its cassette and called live, compared;
``=update`` rewrites the cassettes that drifted, and nothing else."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import FAKE_TOKEN

from pytest_replicate.report.drift import drift_lines
from pytest_replicate.simulator import Simulator  # imported before pytester snapshots sys.modules (yaml, see below)

RECORDER = """\
import json


def pytest_replicate_case_result(config, result):
    with open("results.jsonl", "a", encoding="utf-8") as file:
        file.write(json.dumps(result) + "\\n")
"""

SUITE = """
prompts: ["What is the capital of {{ country }}?"]
providers:
  - id: replicate:meta/llama-2-7b-chat
    config: {temperature: 0.01, poll_interval: 0.01, inputCost: 0.000001, outputCost: 0.000002}
tests:
  - vars: {country: France}
    assert: [{type: contains, value: Paris}]
  - vars: {country: Japan}
    assert: [{type: contains, value: Tokyo}]
"""
MODEL = "meta/llama-2-7b-chat"
XDIST = ("-p", "xdist", "-n", "2")


@pytest.fixture
def recorded(pytester: pytest.Pytester, write_eval, replicate_env: Simulator) -> dict[str, bytes]:
    """The suite recorded against the simulator: its cassettes' bytes by country.

    The simulator module is imported at the top: it loads yaml, and if pytester unloaded yaml
    between tests, its C extension would keep the first test's classes.
    """
    pytester.makeconftest(RECORDER)
    write_eval(SUITE)
    pytester.runpytest().assert_outcomes(passed=2)
    (pytester.path / "results.jsonl").unlink()
    return cassettes(pytester.path)


def cassettes(root: Path) -> dict[str, bytes]:
    files = sorted(root.glob("cassettes/**/*.yaml"))
    return {next(c for c in ("France", "Japan") if c in file.name): file.read_bytes() for file in files}


def results(pytester: pytest.Pytester) -> dict[str, dict]:
    """The drift run's case results by country; read once (the file is removed)."""
    path = pytester.path / "results.jsonl"
    found = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    path.unlink()
    return {result["vars"]["country"]: result for result in found}


def no_token_anywhere(pytester: pytest.Pytester, run: pytest.RunResult) -> None:
    assert FAKE_TOKEN not in run.stdout.str() + run.stderr.str()
    for file in pytester.path.rglob("*"):
        if file.is_file():
            assert FAKE_TOKEN.encode() not in file.read_bytes(), file


@pytest.mark.parametrize("args", [(), XDIST], ids=["plain", "xdist"])
def test_a_changed_model_reports_the_changed_output_and_verdict_and_leaves_the_cassettes(
        pytester, recorded, replicate_env, args):
    replicate_env.change_answer(MODEL, "France", "The capital of France is Lyon.")
    run = pytester.runpytest("--replicate-drift", *args)
    run.assert_outcomes(passed=1, failed=1)  # the live verdicts
    found = results(pytester)
    france, japan = found["France"]["drift"], found["Japan"]["drift"]
    assert found["France"]["outcome"] == "failed" and found["France"]["output"] == "The capital of France is Lyon."
    assert france["output_changed"] and france["verdict"] == "pass→fail" and not france["updated"]
    assert france["diff"] == "- The capital of France is Paris.\n+ The capital of France is Lyon."
    assert france["replayed"] == {"passed": True, "score": 1.0, "output": "The capital of France is Paris.",
                                  "error": None}
    assert japan == {"output_changed": False, "verdict": None, "diff": None, "updated": False,
                     "replayed": {"passed": True, "score": 1.0, "output": "The capital of Japan is Tokyo.",
                                  "error": None}}
    # called live; nothing recorded, since drift keeps the cassettes as they are
    assert all(result["live"] and result["recorded"] == 0 for result in found.values())
    assert cassettes(pytester.path) == recorded  # byte-identical
    no_token_anywhere(pytester, run)
    spent = found["France"]["cost"] + found["Japan"]["cost"]
    assert spent > 0 and drift_lines([found["France"], found["Japan"]])[:3] == [
        "2 compared with their cassettes: 1 output changed, 1 pass→fail, 0 fail→pass, 0 cassettes updated",
        f"spent live: ${spent:.6f}",
        f"pass→fail: {found['France']['nodeid']}",
    ]


def test_update_rewrites_only_the_drifted_cassette_and_replay_then_gives_the_new_verdict(
        pytester, recorded, replicate_env, monkeypatch):
    replicate_env.change_answer(MODEL, "France", "The capital of France is Lyon.")
    run = pytester.runpytest("--replicate-drift=update")
    run.assert_outcomes(passed=1, failed=1)
    found = results(pytester)
    assert found["France"]["drift"]["updated"] and not found["Japan"]["drift"]["updated"]
    after = cassettes(pytester.path)
    assert after["Japan"] == recorded["Japan"] and after["France"] != recorded["France"]
    assert b"Lyon" in after["France"]
    no_token_anywhere(pytester, run)

    monkeypatch.delenv("REPLICATE_API_TOKEN")
    replicate_env.stop()
    offline = pytester.runpytest("--record-mode=none")
    offline.assert_outcomes(passed=1, failed=1)
    replayed = results(pytester)
    assert replayed["France"]["outcome"] == "failed" and replayed["Japan"]["outcome"] == "passed"
    assert replayed["France"]["drift"] is None and replayed["France"]["replayed"] > 0


def test_an_unchanged_model_reports_no_drift(pytester, recorded):
    pytester.runpytest("--replicate-drift=update", *XDIST).assert_outcomes(passed=2)
    drifts = [result["drift"] for result in results(pytester).values()]
    assert [(d["output_changed"], d["verdict"], d["diff"], d["updated"]) for d in drifts] == [(False, None, None, False)] * 2
    assert cassettes(pytester.path) == recorded


def test_a_verdict_can_flip_to_pass(pytester, write_eval, replicate_env):
    pytester.makeconftest(RECORDER)
    write_eval(SUITE.replace("Paris", "Lyon"))
    pytester.runpytest().assert_outcomes(passed=1, failed=1)
    (pytester.path / "results.jsonl").unlink()
    replicate_env.change_answer(MODEL, "France", "The capital of France is Lyon.")
    pytester.runpytest("--replicate-drift").assert_outcomes(passed=2)
    france = results(pytester)["France"]["drift"]
    assert france["verdict"] == "fail→pass" and france["replayed"]["passed"] is False


def test_an_item_without_a_cassette_has_nothing_to_compare(pytester, write_eval, replicate_env):
    pytester.makeconftest(RECORDER)
    write_eval(SUITE)
    pytester.runpytest("--replicate-drift=update", "-k", "France").assert_outcomes(passed=1)
    drift = results(pytester)["France"]["drift"]
    assert drift == {"output_changed": False, "verdict": None, "diff": None, "replayed": None, "updated": False}
    assert not list(pytester.path.glob("cassettes/**/*.yaml"))  # update rewrites; it does not record
    assert drift_lines([{"nodeid": "x", "cost": None, "drift": drift}])[1].startswith("1 without a cassette")


def test_without_a_token_the_eval_file_is_refused_before_any_call(pytester, write_eval, monkeypatch):
    for name in ("REPLICATE_API_TOKEN", "REPLICATE_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    write_eval(SUITE)
    run = pytester.runpytest("--replicate-drift")
    assert run.ret == pytest.ExitCode.INTERRUPTED  # a collection error, as for any bad provider
    run.stdout.fnmatch_lines(["*providers[[]0[]]: --replicate-drift calls replicate:meta/llama-2-7b-chat live, "
                              "but it has no Replicate API token",
                              "  hint: set REPLICATE_API_TOKEN (or REPLICATE_API_KEY), or give the provider apiKey*"])
    assert "Traceback" not in run.stdout.str() + run.stderr.str()


def test_a_token_from_the_eval_file_is_enough(pytester, write_eval, monkeypatch, replicate_env):
    for name in ("REPLICATE_API_TOKEN", "REPLICATE_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    write_eval("env: {REPLICATE_API_TOKEN: r8_test_from_the_file}\n" + SUITE)
    run = pytester.runpytest("--replicate-drift")
    run.assert_outcomes(passed=2)  # no cassette: nothing to compare, both ran live


def test_repeated_cases_are_not_compared_and_their_cassettes_stay(pytester, write_eval, replicate_env):
    pytester.makeconftest(RECORDER)
    write_eval(SUITE.replace("  - vars: {country: France}\n", "  - vars: {country: France}\n    repeat: 2\n"))
    pytester.runpytest().assert_outcomes(passed=2)
    (pytester.path / "results.jsonl").unlink()
    before = cassettes(pytester.path)
    replicate_env.change_answer(MODEL, "France", "The capital of France is Lyon.")
    pytester.runpytest("--replicate-drift=update").assert_outcomes(passed=2)  # France replays its 2 samples
    found = results(pytester)
    assert found["France"]["drift"] is None and found["France"]["repeat"]["passed"] == 2
    assert found["Japan"]["drift"] is not None
    assert cassettes(pytester.path) == before
