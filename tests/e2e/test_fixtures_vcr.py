"""Our calls and a user's own vcrpy or pytest-recording cassettes in one test function:
each exchange lands in exactly one cassette, and both replay offline."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

USER_AND_OURS = """
import os

import httpx
import pytest
import vcr


def their_call():
    url = os.environ["REPLICATE_BASE_URL"] + "/v1/predictions/theirs"
    return httpx.get(url, headers={"Authorization": "Bearer r8_user"}).status_code


def our_call(replicate_provider):
    return replicate_provider("replicate:meta/llama-2-7b-chat")("What is the capital of France?").text


@pytest.mark.vcr
def test_with_pytest_recording(replicate_provider):
    assert their_call() == 404
    assert "Paris" in our_call(replicate_provider)


def test_with_plain_vcrpy(replicate_provider):
    with vcr.use_cassette("cassettes/own/plain.yaml", record_mode=os.environ["USER_RECORD_MODE"]):
        assert their_call() == 404
        assert "Paris" in our_call(replicate_provider)
"""


def paths_in(cassette: Path) -> list[str]:
    return [i["request"]["uri"].split("/", 3)[-1] for i in yaml.safe_load(cassette.read_text())["interactions"]]


def test_each_exchange_lands_in_one_cassette_and_both_replay(pytester, replicate_env, monkeypatch):
    pytest.importorskip("pytest_recording")
    pytester.makepyfile(test_mixed=USER_AND_OURS)
    monkeypatch.setenv("USER_RECORD_MODE", "once")
    pytester.runpytest_subprocess("-p", "recording", "--record-mode=once").assert_outcomes(passed=2)

    folder = pytester.path / "cassettes" / "test_mixed"
    assert paths_in(folder / "test_with_pytest_recording.yaml") == ["v1/predictions/theirs"]
    assert paths_in(pytester.path / "cassettes" / "own" / "plain.yaml") == ["v1/predictions/theirs"]
    (ours_1,) = folder.glob("test_with_pytest_recording.*.yaml")
    (ours_2,) = folder.glob("test_with_plain_vcrpy.*.yaml")
    for ours in (ours_1, ours_2):
        assert paths_in(ours) == ["v1/models/meta/llama-2-7b-chat/predictions"]

    replicate_env.stop()
    monkeypatch.delenv("REPLICATE_API_TOKEN")
    monkeypatch.setenv("USER_RECORD_MODE", "none")
    replay = pytester.runpytest_subprocess("-p", "recording", "--record-mode=none")
    replay.assert_outcomes(passed=2)
    replay.stdout.fnmatch_lines(["2 replayed, 0 recorded, 0 missed (record mode: none)"])
