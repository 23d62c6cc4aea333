"""Lazy start-up: pytest loads this plugin in every project it is installed in, so a run that
uses nothing of ours must not pay for the eval machinery (issue 18's start-up cost)."""

from __future__ import annotations

import pytest

HEAVY = ("httpx", "vcr", "jinja2", "jsonschema", "yaml", "py_mini_racer")
REPORT_HEAVY = f"""
import sys

def pytest_unconfigure(config):
    loaded = sorted(name for name in {HEAVY!r} if name in sys.modules)
    print("HEAVY:", ",".join(loaded) or "none")
"""


def test_a_project_without_eval_files_loads_none_of_the_eval_machinery(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(REPORT_HEAVY)
    pytester.makepyfile(test_plain="def test_plain():\n    assert True\n")
    pytester.makefile(".yaml", settings="key: value\n")  # a YAML file that is not an eval file
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-s")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["HEAVY: none"])
    result.stdout.no_fnmatch_line("*replicate*")  # no summary section either


def test_an_eval_file_brings_the_machinery_in(pytester: pytest.Pytester, write_eval) -> None:
    pytester.makeconftest(REPORT_HEAVY)
    write_eval("""
        prompts: ["Say {{ word }}"]
        providers: [echo]
        tests:
          - vars: {word: hello}
            assert: [{type: contains, value: hello}]
    """)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-s")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["HEAVY: *jinja2*"])


def test_a_fixture_brings_the_machinery_in(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(REPORT_HEAVY)
    pytester.makepyfile(test_fixture="""
        def test_echo(replicate_provider):
            assert replicate_provider("echo")("hi").output == "hi"
    """)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-s")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["HEAVY: *httpx*"])


REPORT_VCRPY = """
import sys

def pytest_collection_finish(session):
    print("VCRPY AT COLLECTION:", "vcr" in sys.modules)
"""


def test_a_rewrite_imports_vcrpy_only_once_its_first_requests_are_out(pytester: pytest.Pytester, write_eval,
                                                                      replicate_env) -> None:
    """vcrpy's import (70 to 90 ms) waits, on a thread of its own, for the first calls to be sent."""
    pytester.makeconftest(REPORT_VCRPY)
    write_eval("""
        prompts: ["Say hello to {{ name }}"]
        providers: [replicate:meta/llama-2-7b-chat]
        tests:
          - vars: {name: [Ada, Alan, Grace]}
            assert: [{type: icontains, value: hello}]
    """)
    recorded = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-s", "--record-mode=rewrite")
    recorded.assert_outcomes(passed=3)
    recorded.stdout.fnmatch_lines(["VCRPY AT COLLECTION: False"])
    assert len(list((pytester.path / "cassettes" / "suite.eval").glob("*.yaml"))) == 3
    replayed = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--record-mode=none")
    replayed.assert_outcomes(passed=3)


REPORT_REGEX = """
import sys

def pytest_unconfigure(config):
    print("REGEX:", "regex" in sys.modules)
"""


@pytest.mark.parametrize(("check", "loaded"), [("{type: contains, value: hello}", False),
                                               ("{type: regex, value: 'h.llo'}", True)])
def test_the_regex_package_is_imported_only_for_a_pattern(pytester: pytest.Pytester, write_eval,
                                                          check: str, loaded: bool) -> None:
    pytester.makeconftest(REPORT_REGEX)
    write_eval(f"""
        prompts: ["Say {{{{ word }}}}"]
        providers: [echo]
        tests:
          - vars: {{word: hello}}
            assert: [{check}]
    """)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-s")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([f"REGEX: {loaded}"])
