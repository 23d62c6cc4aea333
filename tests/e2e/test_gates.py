"""Pass-rate gates: --replicate-min-pass-rate, the ini key, and an eval file's own
``metadata.min_pass_rate``. A file below its bar fails the session; failing cases of files
that meet theirs are still reported as failed, but the exit status is pytest's OK unless
something else failed."""

from __future__ import annotations

import json

import pytest

HALF = """\
prompts: ['{{ out }}']
providers: [echo]
%s
tests:
  - {vars: {out: hello}, assert: [{type: contains, value: hell}]}
  - {vars: {out: help}, assert: [{type: contains, value: hel}]}
  - {vars: {out: bye}, assert: [{type: contains, value: hell}]}
  - {vars: {out: ciao}, assert: [{type: contains, value: hell}]}
"""  # two of four pass


def half(bar: float | None = None) -> str:
    return HALF % (f"metadata: {{owner: evals-team, min_pass_rate: {bar}}}" if bar is not None else "")


def gate(pytester) -> dict:
    return json.loads((pytester.path / "report.json").read_text(encoding="utf-8"))["gate"]


def test_a_file_below_its_bar_fails_the_session(pytester, write_eval):
    write_eval(half(), name="evals/a.eval.yaml")
    result = pytester.runpytest("--replicate-min-pass-rate=0.9", "--replicate-json=report.json")
    result.assert_outcomes(passed=2, failed=2)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert gate(pytester) == {"failed": True, "reasons": ["evals/a.eval.yaml: pass rate 0.50 (2 of 4 cases) is below 0.90"],
                              "notes": []}


def test_files_that_meet_their_bar_pass_the_session_though_cases_failed(pytester, write_eval):
    pytester.makeini("[pytest]\nreplicate_min_pass_rate = 0.5\n")
    write_eval(half(), name="a.eval.yaml")
    write_eval(half(), name="b.eval.yaml")
    result = pytester.runpytest("--replicate-json=report.json")
    result.assert_outcomes(passed=4, failed=4)  # each failing case is still reported
    assert result.ret == pytest.ExitCode.OK
    assert gate(pytester) == {"failed": False, "reasons": [], "notes": []}


def test_an_eval_files_own_bar_wins_over_the_command_line(pytester, write_eval):
    write_eval(half(bar=0.5), name="own.eval.yaml")
    write_eval(half(), name="default.eval.yaml")
    result = pytester.runpytest("--replicate-min-pass-rate=0.75", "--replicate-json=report.json")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert gate(pytester)["reasons"] == ["default.eval.yaml: pass rate 0.50 (2 of 4 cases) is below 0.75"]
    document = json.loads((pytester.path / "report.json").read_text(encoding="utf-8"))
    assert {f["file"]: f["min_pass_rate"] for f in document["files"]} == {"default.eval.yaml": 0.75,
                                                                        "own.eval.yaml": 0.5}
    assert pytester.runpytest("--replicate-min-pass-rate=0.25").ret == pytest.ExitCode.OK


def test_failures_of_a_file_without_a_bar_still_fail_the_session(pytester, write_eval):
    write_eval(half(bar=0.5), name="own.eval.yaml")
    write_eval(half(), name="unbarred.eval.yaml")
    assert pytester.runpytest().ret == pytest.ExitCode.TESTS_FAILED
    (pytester.path / "unbarred.eval.yaml").unlink()
    assert pytester.runpytest().ret == pytest.ExitCode.OK


@pytest.mark.parametrize("other", ["failing test", "collection error", "teardown error"])
def test_anything_else_that_fails_still_fails_the_session(pytester, write_eval, other):
    write_eval(half())
    if other == "failing test":
        pytester.makepyfile(test_plain="def test_plain():\n    assert False\n")
    elif other == "collection error":
        pytester.makepyfile(test_broken="import no_such_module\n")
    else:
        pytester.makeconftest("def pytest_runtest_teardown(item):\n"
                              "    if 'hello' in item.nodeid:\n        raise RuntimeError('teardown')\n")
    result = pytester.runpytest("--replicate-min-pass-rate=0.5", "--continue-on-collection-errors")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    outcomes = result.parseoutcomes()
    assert outcomes["failed"] == 3 if other == "failing test" else outcomes["errors"] >= 1


def test_exit_first_stops_and_fails_as_usual(pytester, write_eval):
    write_eval(half())
    result = pytester.runpytest("--replicate-min-pass-rate=0", "-x")
    result.assert_outcomes(passed=2, failed=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED


def test_last_failed_reruns_the_failed_cases(pytester, write_eval):
    write_eval(half())
    assert pytester.runpytest("--replicate-min-pass-rate=0.5").ret == pytest.ExitCode.OK
    result = pytester.runpytest("--replicate-min-pass-rate=0.5", "--lf")
    result.assert_outcomes(failed=2)  # pytest's cache knows which failed, though the session passed
    # A rerun of some cases has no pass rate worth a bar: pytest's own verdict stands, and says so.
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["pass-rate bars not judged: not every collected test ran*"])


def test_a_partial_run_cannot_hide_a_missed_bar(pytester, write_eval):
    write_eval(half())
    result = pytester.runpytest("--replicate-min-pass-rate=0.99", "-k", "hello")
    result.assert_outcomes(passed=1, deselected=3)
    assert result.ret == pytest.ExitCode.OK  # pytest's verdict: what ran passed
    result.stdout.fnmatch_lines(["pass-rate bars not judged*"])


@pytest.mark.parametrize(("bar", "status"), [("0.5", pytest.ExitCode.OK), ("0.6", pytest.ExitCode.TESTS_FAILED)])
def test_the_gate_under_xdist(pytester, write_eval, bar, status):
    pytest.importorskip("xdist")
    write_eval(half(), name="a.eval.yaml")
    write_eval(half(), name="b.eval.yaml")
    result = pytester.runpytest("-p", "xdist", "-n", "2", f"--replicate-min-pass-rate={bar}")
    result.assert_outcomes(passed=4, failed=4)
    assert result.ret == status


def test_the_eval_files_bar_is_checked(pytester, write_eval):
    write_eval(half(bar=1.5))
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["suite.eval.yaml:3: metadata.min_pass_rate: 1.5 is greater than the maximum of 1*"])
