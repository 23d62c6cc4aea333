"""Eval files from ordinary tests (``load_suite`` + ``run_case``) and the opt-in simulator fixture."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

import pytest
from helpers import assert_no_traceback

EVAL_FILE = """
prompts: ["What is the capital of {{ country }}?"]
providers: [replicate:meta/llama-2-7b-chat]
tests:
  - vars: {country: France, capital: Paris}
    assert: [{type: contains, value: "{{ capital }}"}]
  - vars: {country: Japan, capital: Kyoto}
    assert: [{type: contains, value: "{{ capital }}"}]
"""

PARAMETRIZED = """
from pathlib import Path

import pytest
from pytest_replicate import load_suite

CASES = load_suite(Path(__file__).parent / "capitals.yaml")


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.label)
def test_case(case, replicate_session):
    result = replicate_session.run_case(case)
    replicate_session.assert_output(result, "moderation")


def test_unchecked(replicate_session):
    result = replicate_session.run_case(CASES[1], check=False)
    assert not result.passed and result.output == "The capital of Japan is Tokyo."
"""


def test_a_test_parametrized_over_an_eval_file_runs_each_case_in_its_cassette(pytester, replicate_env, monkeypatch):
    (pytester.path / "capitals.yaml").write_text(EVAL_FILE)
    pytester.makepyfile(test_suite=PARAMETRIZED)
    result = pytester.runpytest()
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines([
        "E       AssertionError: output does not contain 'Kyoto'",
        "E       provider: replicate:meta/llama-2-7b-chat",
        "E       vars:",
        "E           country: Japan",
        "E           capital: Kyoto",
        "E       prompt:",
        "E           What is the capital of Japan?",
        "E       output:",
        "E           The capital of Japan is Tokyo.",
        "E       assertions:",
        "E         [[]FAIL] contains 'Kyoto' (score 0.00): output does not contain 'Kyoto'",
    ])
    assert_no_traceback(result)
    names = sorted(path.name.split(".")[0] for path in (pytester.path / "cassettes" / "test_suite").glob("*.yaml"))
    assert names == ["test_case_country_France_capital_Paris", "test_case_country_Japan_capital_Kyoto",
                     "test_unchecked"]

    replicate_env.stop()
    monkeypatch.delenv("REPLICATE_API_TOKEN")
    replay = pytester.runpytest("--record-mode=none")
    replay.assert_outcomes(passed=2, failed=1)
    # each case's call, and the moderation grader's call of the passing one
    # Llama Guard 3 runs by version, as on the real API: 404 on its model endpoint, GET the model, create.
    replay.stdout.fnmatch_lines(["6 replayed, 0 recorded, 0 missed (record mode: none)"])


SIMULATED = """
from pathlib import Path

def test_offline(replicate_simulator, replicate_provider):
    Path("simulator-url").write_text(replicate_simulator.url)
    result = replicate_provider("replicate:meta/llama-2-7b-chat")("What is the capital of Kenya?")
    assert result.text == "The capital of Kenya is Nairobi."
    assert [r.path for r in replicate_simulator.requests] == ["/v1/models/meta/llama-2-7b-chat/predictions"]

def test_not_opted_in(replicate_provider):
    replicate_provider("replicate:meta/llama-2-7b-chat")("What is the capital of Kenya?")
"""


def test_the_simulator_fixture_serves_tests_that_ask_for_it(pytester, monkeypatch):
    for name in ("REPLICATE_API_TOKEN", "REPLICATE_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CI", "true")
    pytester.makepyfile(test_simulated=SIMULATED)
    result = pytester.runpytest()
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*test_not_opted_in - pytest_replicate.errors.CassetteError: cassette miss*"])
    assert not (pytester.path / "cassettes").exists()  # the simulator's answers are not recorded

    url = urlsplit((pytester.path / "simulator-url").read_text())
    assert url.hostname == "127.0.0.1"
    with pytest.raises(OSError), socket.create_connection((url.hostname, url.port), timeout=1):
        pass  # stopped with the session


def test_run_case_grades_with_the_test_s_options_provider(pytester, replicate_env):
    (pytester.path / "guarded.yaml").write_text(
        'prompts: ["What is the capital of {{ country }}?"]\n'
        "providers: [replicate:meta/llama-2-7b-chat]\n"
        "defaultTest:\n  options:\n    provider: {moderation: replicate:moderation:meta/llama-guard-4-12b}\n"
        "tests:\n  - vars: {country: France}\n    assert: [{type: moderation}]\n"
    )
    pytester.makepyfile(test_guarded="""
        from pathlib import Path

        from pytest_replicate import load_suite


        def test_case(replicate_session):
            replicate_session.run_case(load_suite(Path(__file__).parent / "guarded.yaml")[0])
    """)
    pytester.runpytest().assert_outcomes(passed=1)
    guards = [r.path for r in replicate_env.requests if r.method == "POST" and "llama-guard" in r.path]
    assert guards and all("llama-guard-4-12b" in path for path in guards)  # as the eval item would
