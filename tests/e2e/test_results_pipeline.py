"""Every eval item's result reaches one collector in the main process, in collection order,
through the ``pytest_replicate_case_result`` hook, with or without pytest-xdist; and the
summary's figures are the same under ``-n 2`` as in a plain run."""

from __future__ import annotations

import json
import re

import pytest

from pytest_replicate.simulator import Fault

RECORDER = """\
import json


def pytest_replicate_case_result(config, result):
    with open("results.jsonl", "a", encoding="utf-8") as file:
        file.write(json.dumps(result) + "\\n")
"""

ECHO_SUITE = """\
prompts: [{id: out, raw: '{{ out }}'}]
providers: [echo]
tests:
  - description: passes
    vars: {out: hello}
    assert: [{type: contains, value: hell, metric: words}]
  - description: fails
    vars: {out: bye}
    assert: [{type: equals, value: hello, metric: words}]
  - description: errs
    vars: {other: x}
  - description: passes too
    vars: {out: hi there}
    assert: [{type: icontains, value: HI}]
"""
NAMES = ["passes", "fails", "errs", "passes too"]

ARGS = {"plain": (), "xdist": ("-p", "xdist", "-n", "2")}


def collected(pytester: pytest.Pytester) -> list[dict]:
    path = pytester.path / "results.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []


def summary(result: pytest.RunResult) -> list[str]:
    """The plugin's summary lines (the section titles and what follows them), minus timings."""
    lines, inside = [], False
    for line in result.stdout.lines:
        if re.match(r"^-+ replicate ", line):
            inside = True
        elif line.startswith(("=", "-")):
            inside = False
        if inside:
            lines.append(re.sub(r"\d+\.\d\ds\b", "_s", line))  # latencies (p50, p95) of live calls
    return lines


@pytest.mark.parametrize("mode", ARGS)
def test_the_hook_receives_every_result_once_in_collection_order(pytester, write_eval, mode):
    pytest.importorskip("xdist")
    pytester.makeconftest(RECORDER)
    pytester.makepyfile(test_between="def test_plain():\n    pass\n")  # a python test: no case result
    write_eval(ECHO_SUITE, name="a.eval.yaml")
    write_eval(ECHO_SUITE, name="z.eval.yaml")
    result = pytester.runpytest(*ARGS[mode])
    result.assert_outcomes(passed=5, failed=4)
    results = collected(pytester)
    assert [r["description"] for r in results] == NAMES * 2
    assert [r["nodeid"].split("::")[0] for r in results] == ["a.eval.yaml"] * 4 + ["z.eval.yaml"] * 4
    first = {r["description"]: r for r in results[:4]}
    assert [first[name]["outcome"] for name in NAMES] == ["passed", "failed", "failed", "passed"]
    assert first["passes"]["passed"] and first["passes"]["output"] == "hello"
    assert first["passes"]["assertions"][0] == {
        "type": "contains", "value": "hell", "passed": True, "score": 1.0, "reason": "output contains 'hell'",
        "weight": 1, "metric": "words", "children": []}
    assert first["fails"]["named_scores"] == {"words": 0.0} and not first["fails"]["passed"]
    assert "undefined variable 'out'" in first["errs"]["error"]
    assert first["passes"]["vars"] == {"out": "hello"} and first["passes"]["prompt"] == "hello"
    assert first["passes"]["provider"] == "echo" and first["passes"]["cost"] == 0.0
    assert first["passes"]["cassette"].endswith(".yaml") and first["passes"]["live"] is False


def test_the_hook_sees_live_and_replayed_calls_and_no_token(pytester, write_eval, replicate_env):
    pytester.makeconftest(RECORDER)
    write_eval('prompts: ["Say hi to {{ n }}"]\nproviders: [replicate:meta/llama-2-7b-chat]\n'
               "tests:\n  - vars: {n: one}\n  - vars: {n: two}\n")
    pytester.runpytest().assert_outcomes(passed=2)
    recorded = collected(pytester)
    (pytester.path / "results.jsonl").unlink()
    pytester.runpytest("--record-mode=none").assert_outcomes(passed=2)
    replayed = collected(pytester)
    assert [(r["live"], r["recorded"] > 0, r["replayed"]) for r in recorded] == [(True, True, 0)] * 2
    assert [(r["live"], r["recorded"], r["replayed"] > 0) for r in replayed] == [(False, 0, True)] * 2
    assert all(r["prediction_id"] for r in recorded) and [r["prediction_id"] for r in replayed] == [
        r["prediction_id"] for r in recorded]
    assert "r8_test" not in (pytester.path / "results.jsonl").read_text()


def llama_suite(cases: int) -> str:
    tests = "".join(f"  - description: c{i}\n    vars: {{n: '{i}'}}\n"
                    f"    assert: [{{type: contains, value: '{i}', metric: number}}]\n" for i in range(cases))
    return ('prompts: ["Say hello to number {{ n }}"]\n'
            "providers:\n  - id: replicate:meta/llama-2-7b-chat\n"
            "    config: {poll_interval: 0.02, wait: 0, retry_backoff: 0.01, max_retries: 8}\n"
            f"tests:\n{tests}")


def test_throttling_is_reported_from_xdist_workers(pytester, write_eval, replicate_env):
    pytest.importorskip("xdist")
    replicate_env.add_fault(Fault("status", status=429, times=6, method="POST", retry_after=0.01,
                                  detail="Request was throttled."))
    write_eval(llama_suite(6))
    result = pytester.runpytest("-p", "xdist", "-n", "2", "--replicate-concurrency=3")
    result.assert_outcomes(passed=6)
    result.stdout.fnmatch_lines(["6 calls ran live: * peak concurrency *; throttled 6 times, slowed to * at once"])


def test_the_summary_is_the_same_under_xdist(pytester, write_eval, replicate_env, monkeypatch):
    pytest.importorskip("xdist")
    write_eval(llama_suite(6))
    write_eval(ECHO_SUITE, name="echo.eval.yaml")
    plain = pytester.runpytest("--replicate-concurrency=1", "--record-mode=rewrite")
    distributed = pytester.runpytest("-p", "xdist", "-n", "2", "--replicate-concurrency=1", "--record-mode=rewrite")
    assert summary(plain) == summary(distributed)
    assert any(re.match(r"^\d+ replayed, \d+ recorded, 0 missed", line) for line in summary(plain))
    assert any(line.startswith("6 calls ran live:") for line in summary(plain))
    replicate_env.stop()
    monkeypatch.delenv("REPLICATE_API_TOKEN")
    plain = pytester.runpytest("--record-mode=none")
    distributed = pytester.runpytest("-p", "xdist", "-n", "2", "--record-mode=none")
    assert summary(plain) == summary(distributed)
    assert any(re.fullmatch(r"[1-9]\d* replayed, 0 recorded, 0 missed \(record mode: none\)", line)
               for line in summary(plain))
    plain.stdout.fnmatch_lines(["echo.eval.yaml: 2 of 4 passed (50%), 1 error", "*", "*", "*", "  errors *1",
                                "  words *0.50", "suite.eval.yaml: 6 of 6 passed (100%)", "*", "*", "*",
                                "  number *1.00", "  live/replayed/missed *0/6/0"], consecutive=True)



KEEPER = """\
import json

from pytest_replicate.pytest.reporting import results_of

seen, carried = [], []


def pytest_replicate_case_result(config, result):
    seen.append(json.dumps(result, sort_keys=True))


def pytest_runtest_logreport(report):
    if getattr(report, "replicate_result", None) is not None:
        carried.append(report.nodeid)


def pytest_terminal_summary(terminalreporter, config):
    reports = [report for kept in terminalreporter.stats.values() for report in kept]
    with open("kept.json", "w", encoding="utf-8") as file:
        json.dump({"seen": seen, "kept": [json.dumps(result, sort_keys=True) for result in results_of(config)],
                   "carried": carried, "left": [r.nodeid for r in reports if hasattr(r, "replicate_result")]}, file)
"""


@pytest.mark.parametrize("mode", ARGS)
def test_results_kept_for_the_end_are_those_the_hook_received(pytester, write_eval, mode):
    """Results are kept compact once handed on, and leave their reports once every logreport hook saw them."""
    pytest.importorskip("xdist")
    pytester.makeconftest(KEEPER)
    write_eval(ECHO_SUITE, name="a.eval.yaml")
    write_eval(ECHO_SUITE, name="z.eval.yaml")
    pytester.runpytest(*ARGS[mode]).assert_outcomes(passed=4, failed=4)
    kept = json.loads((pytester.path / "kept.json").read_text(encoding="utf-8"))
    assert len(kept["seen"]) == 8 and kept["kept"] == kept["seen"]
    assert len(kept["carried"]) == 8 and kept["left"] == []
