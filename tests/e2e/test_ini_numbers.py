"""Numeric ini keys read as numbers from pytest 9's native ``[tool.pytest]`` table and as text from
ini files; a value that is no number is one usage error naming the key."""

from __future__ import annotations

import pytest

PASSING = """
prompts: ["{{ word }}"]
providers: [echo]
tests:
  - vars: {word: hi}
    assert: [{type: contains, value: hi}]
"""


@pytest.mark.parametrize("table", [
    "[tool.pytest]\nreplicate_min_pass_rate = 0.9\nreplicate_concurrency = 4\nreplicate_timeout = 30\nreplicate_max_cases = 50\n",
    '[tool.pytest.ini_options]\nreplicate_min_pass_rate = "0.9"\nreplicate_concurrency = "4"\nreplicate_timeout = "30"\n',
], ids=["native-toml", "ini-options"])
def test_numbers_are_read_from_either_table(pytester: pytest.Pytester, write_eval, table: str) -> None:
    if table.startswith("[tool.pytest]\n") and pytest.version_tuple < (9,):
        pytest.skip("pytest 9 reads the native [tool.pytest] table")
    pytester.makefile(".toml", pyproject=table)
    write_eval(PASSING)
    result = pytester.runpytest()
    result.assert_outcomes(passed=1)
    assert result.ret == pytest.ExitCode.OK


@pytest.mark.parametrize(("table", "key"), [
    ('[tool.pytest]\nreplicate_concurrency = "four"\n', "replicate_concurrency"),
    ('[tool.pytest.ini_options]\nreplicate_min_pass_rate = "most"\n', "replicate_min_pass_rate"),
], ids=["native-toml", "ini-options"])
def test_a_value_that_is_no_number_is_one_usage_error(pytester: pytest.Pytester, write_eval, table: str,
                                                      key: str) -> None:
    if table.startswith("[tool.pytest]\n") and pytest.version_tuple < (9,):
        pytest.skip("pytest 9 reads the native [tool.pytest] table")
    pytester.makefile(".toml", pyproject=table)
    write_eval(PASSING)
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"ERROR: {key}: not a number*: give *"])
    assert "INTERNALERROR" not in result.stdout.str() + result.stderr.str()
