"""What an eval file's collection builds is frozen (``pytest/frozen.py``) during the run and given
back at its end; a heap someone else froze is left as it is."""

from __future__ import annotations

import gc

import pytest

EVAL = """
    prompts: ["Say {{ word }}"]
    providers: [echo]
    tests:
      - vars: {word: hello}
        assert: [{type: contains, value: hello}]
"""
REPORT_FROZEN = """
import atexit
import gc
import pytest

FROZEN = []

@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session):
    FROZEN.append(gc.get_freeze_count())

@atexit.register
def report():  # after pytest's cleanups, as the interpreter exits
    FROZEN.append(gc.get_freeze_count())
    print("FROZEN:", ",".join("yes" if count else "no" for count in FROZEN), flush=True)
"""


def test_a_command_line_run_freezes_what_collection_built_and_gives_it_back(
        pytester: pytest.Pytester, write_eval) -> None:
    pytester.makeconftest(REPORT_FROZEN)
    write_eval(EVAL)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-s")  # python -m pytest
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["FROZEN: yes,no"])


def test_a_run_without_eval_files_leaves_the_heap_alone(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(REPORT_FROZEN)
    pytester.makepyfile(test_plain="def test_plain():\n    assert True\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-s")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["FROZEN: no,no"])


def test_a_heap_someone_else_froze_stays_frozen(pytester: pytest.Pytester, write_eval) -> None:
    write_eval(EVAL)
    gc.freeze()
    try:
        result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
        result.assert_outcomes(passed=1)
        assert gc.get_freeze_count() > 0  # not thawed by the run (objects freed since have left it)
    finally:
        gc.unfreeze()
