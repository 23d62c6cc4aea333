"""A test's calls through the fixtures are recorded in its own cassette, as eval items' are."""

from __future__ import annotations

import errno
from pathlib import Path

import yaml
from helpers import assert_no_traceback

TEST_MODULE = """
import pytest

def test_capital(replicate_provider):
    llm = replicate_provider("replicate:meta/llama-2-7b-chat", temperature=TEMPERATURE, poll_interval=0.05, wait=WAIT)
    assert "Paris" in llm("What is the capital of France?").text
"""


def write_test(pytester, temperature: float = 0.01, wait: int = 60, marker: str = "") -> None:
    source = TEST_MODULE.replace("TEMPERATURE", str(temperature)).replace("WAIT", str(wait))
    pytester.makepyfile(test_capitals=source.replace("def test_capital", f"{marker}\ndef test_capital"))


def cassette_files(root: Path) -> list[Path]:
    return sorted(root.glob("cassettes/**/*.yaml"))


def temperatures(cassette: Path) -> list[float]:
    interactions = yaml.safe_load(cassette.read_text())["interactions"]
    return [i["request"]["body"]["json"]["input"]["temperature"] for i in interactions]


def offline(monkeypatch, simulator) -> None:
    monkeypatch.delenv("REPLICATE_API_TOKEN", raising=False)
    simulator.stop()


def test_recorded_next_to_the_test_module_then_replayed_offline(pytester, replicate_env, monkeypatch):
    write_test(pytester)
    first = pytester.runpytest()
    first.assert_outcomes(passed=1)
    first.stdout.fnmatch_lines(["0 replayed, 1 recorded, 0 missed (record mode: once)"])
    (cassette,) = cassette_files(pytester.path)
    assert cassette.parent == pytester.path / "cassettes" / "test_capitals"
    assert cassette.name.startswith("test_capital.") and cassette.suffix == ".yaml"

    offline(monkeypatch, replicate_env)
    monkeypatch.setenv("CI", "true")
    second = pytester.runpytest()
    second.assert_outcomes(passed=1)
    second.stdout.fnmatch_lines(["1 replayed, 0 recorded, 0 missed (record mode: none)"])


def test_a_cassette_that_cannot_be_saved_fails_the_test_with_one_message(pytester, replicate_env, monkeypatch):
    def full_disk(source, destination):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("pytest_replicate.cassettes.cassette.os.replace", full_disk)
    write_test(pytester)
    result = pytester.runpytest()
    result.assert_outcomes(passed=1, errors=1)  # the test passed; its teardown could not save the recording
    result.stdout.fnmatch_lines(["*cannot save cassette cassettes/test_capitals/*: No space left on device*"])
    assert_no_traceback(result)


def test_a_test_that_calls_nothing_writes_no_cassette(pytester):
    pytester.makepyfile(test_nothing="def test_nothing(replicate_provider):\n    replicate_provider('echo')('hi')\n")
    pytester.runpytest().assert_outcomes(passed=1)
    assert cassette_files(pytester.path) == []


def test_a_miss_names_the_test_and_how_to_record_it(pytester, monkeypatch):
    monkeypatch.delenv("REPLICATE_API_TOKEN", raising=False)
    write_test(pytester)
    result = pytester.runpytest("--record-mode=none")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "E       pytest_replicate.errors.CassetteError: cassette miss: no cassette recorded for this item "
        "(POST /v1/models/meta/llama-2-7b-chat/predictions)",
        "E         cassette: cassettes/test_capitals/test_capital.*.yaml (record mode: none)",
        "E         record it: REPLICATE_API_TOKEN=... pytest test_capitals.py::test_capital --record-mode=once",
    ])


def test_a_changed_request_is_a_miss_naming_the_difference(pytester, replicate_env, monkeypatch):
    write_test(pytester, temperature=0.01)
    pytester.runpytest().assert_outcomes(passed=1)
    offline(monkeypatch, replicate_env)
    write_test(pytester, temperature=0.2)
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "E       *cassette miss: no recorded response for POST /v1/models/meta/llama-2-7b-chat/predictions",
        "E         the closest recorded request differs in:",
        "E           input.temperature: 0.01 -> 0.2",
        "E         re-record it: REPLICATE_API_TOKEN=... pytest test_capitals.py::test_capital --record-mode=rewrite",
    ])


def test_new_episodes_appends_all_rerecords_and_rewrite_starts_afresh(pytester, replicate_env):
    write_test(pytester, temperature=0.01)
    pytester.runpytest().assert_outcomes(passed=1)
    (cassette,) = cassette_files(pytester.path)
    write_test(pytester, temperature=0.2)
    pytester.runpytest("--record-mode=new_episodes").assert_outcomes(passed=1)
    assert temperatures(cassette) == [0.01, 0.2]

    replicate_env.reset()
    pytester.runpytest("--record-mode=all").assert_outcomes(passed=1)
    assert len([r for r in replicate_env.requests if r.method == "POST"]) == 1  # nothing replayed
    assert temperatures(cassette) == [0.01, 0.2]  # the 0.2 exchange was replaced, not duplicated

    pytester.runpytest("--replicate-record-mode=rewrite").assert_outcomes(passed=1)
    assert temperatures(cassette) == [0.2]


def test_the_marker_chooses_the_record_mode_and_the_command_line_wins(pytester, replicate_env, monkeypatch):
    monkeypatch.setenv("CI", "true")  # the default would be none
    write_test(pytester, marker='@pytest.mark.replicate(record_mode="once")')
    pytester.runpytest().assert_outcomes(passed=1)
    (cassette,) = cassette_files(pytester.path)

    write_test(pytester, temperature=0.2, marker='@pytest.mark.replicate(record_mode="new_episodes")')
    pytester.runpytest("--record-mode=none").assert_outcomes(failed=1)  # the command line wins
    pytester.makeini("[pytest]\nreplicate_record_mode = none\n")
    pytester.runpytest().assert_outcomes(passed=1)  # the marker wins over the ini
    assert temperatures(cassette) == [0.01, 0.2]


def test_the_marker_names_a_cassette_tests_can_share(pytester, replicate_env, monkeypatch):
    pytester.makepyfile(test_shared="""
        import pytest

        @pytest.mark.replicate(cassette="capitals")
        def test_first(replicate_provider):
            replicate_provider("replicate:meta/llama-2-7b-chat")("What is the capital of France?")

        @pytest.mark.replicate(cassette="capitals")
        def test_second(replicate_provider):
            replicate_provider("replicate:meta/llama-2-7b-chat")("What is the capital of France?")
    """)
    result = pytester.runpytest()
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["1 replayed, 1 recorded, 0 missed (record mode: once)"])
    assert cassette_files(pytester.path) == [pytester.path / "cassettes" / "test_shared" / "capitals.yaml"]


def test_replay_never_sleeps_and_no_secret_reaches_disk(pytester, replicate_env, monkeypatch, sleeps):
    canary = "r8_" + "canary" * 7  # built here, so the repository never holds a token-like string
    monkeypatch.setenv("REPLICATE_API_TOKEN", canary)
    replicate_env.latency = 0.2
    write_test(pytester, wait=0)
    pytester.runpytest().assert_outcomes(passed=1)
    assert sleeps  # recording waited between polls
    (cassette,) = cassette_files(pytester.path)
    assert canary not in cassette.read_text()

    sleeps.clear()
    offline(monkeypatch, replicate_env)
    pytester.runpytest("--record-mode=none").assert_outcomes(passed=1)
    assert sleeps == []


def test_a_failed_test_keeps_its_successful_calls_but_a_failed_call_is_never_saved(pytester, replicate_env):
    pytester.makepyfile(test_outcomes="""
        def test_assertion_fails(replicate_provider):
            replicate_provider("replicate:meta/llama-2-7b-chat")("What is the capital of France?")
            assert False

        def test_call_fails(replicate_provider):
            replicate_provider("replicate:meta/llama-2-7b-chat")("What is the capital of France?")
            replicate_provider("replicate:meta/no-such-model")("What is the capital of France?")
    """)
    pytester.runpytest().assert_outcomes(failed=2)
    assert [path.name.split(".")[0] for path in cassette_files(pytester.path)] == ["test_assertion_fails"]
