"""A prediction's life end to end: interrupts and deadlines cancel it, cassettes fail clearly."""

from __future__ import annotations

import errno
import json
import os

import httpx
import pytest
import yaml
from helpers import FAKE_TOKEN, assert_no_traceback, interrupt_pytest_when

from pytest_replicate.cassettes.serializer import deserialize
from pytest_replicate.simulator import Fault

CREATE = "/v1/models/meta/llama-2-7b-chat/predictions"


def suite(config: str = "", provider: str = "replicate:meta/llama-2-7b-chat") -> str:
    return ('prompts: ["What is the capital of {{ country }}?"]\n'
            f"providers:\n  - id: {provider}\n    config:\n      retry_backoff: 0.01\n      poll_interval: 0.02\n"
            + "".join(f"      {line}\n" for line in config.strip().splitlines())
            + "tests:\n  - vars: {country: France}\n    assert: [{type: icontains, value: paris}]\n")


def test_ctrl_c_during_a_held_create_finds_and_cancels_the_prediction(pytester, write_eval, replicate_env):
    """With Prefer: wait the id is unknown while the create is held: it is found by listing."""
    replicate_env.latency = 30  # Prefer: wait holds the create
    with httpx.Client(base_url=replicate_env.url, headers={"Authorization": f"Bearer {FAKE_TOKEN}"}) as client:
        client.post(CREATE, json={"input": {"prompt": "other"}})  # someone else's, still running
        write_eval(suite())
        interrupt_pytest_when(pytester, lambda: len(replicate_env.predictions_created()) == 2)
        listed = client.get("/v1/predictions").json()["results"]
    assert [r for r in replicate_env.requests if r.path == CREATE][1].headers["prefer"] == "wait=60"
    (ours,) = [p["id"] for p in listed if p["input"]["prompt"] == "What is the capital of France?"]
    assert replicate_env.canceled == [ours]  # and not someone else's


def test_timeout_bounds_a_held_create(pytester, write_eval, replicate_env):
    replicate_env.latency = 30
    write_eval(suite("timeout: 1.5"))
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*prediction * of meta/llama-2-7b-chat did not finish within 1.5s and was canceled "
                                 "(gave up after 1.?s)*"])
    (create,) = [r for r in replicate_env.requests if r.method == "POST" and not r.path.endswith("/cancel")]
    assert create.headers["prefer"] == "wait=1" and create.headers["cancel-after"] == "5s"
    assert len(replicate_env.canceled) == 1


@pytest.mark.parametrize("where", ["poll", "download"])
def test_timeout_bounds_an_answer_that_trickles_in(pytester, write_eval, replicate_env, where):
    """httpx bounds each read, not the whole body: one byte every 0.25 s never trips its timeout."""
    if where == "poll":
        replicate_env.latency = 30
        replicate_env.add_fault(Fault("trickle", delay=0.25, method="GET", path_prefix="/v1/predictions/", times=5))
        write_eval(suite("timeout: 1.5\nwait: 0"))
    else:
        replicate_env.add_fault(Fault("trickle", delay=0.25, path_prefix="/files/", times=5))
        write_eval(suite("timeout: 1.5", provider="replicate:image:stability-ai/sdxl"))
    result = pytester.runpytest_subprocess("-p", "pytest_replicate.pytest.plugin", timeout=20)
    result.assert_outcomes(failed=1)
    canceled = "and was canceled " if where == "poll" else ""
    result.stdout.fnmatch_lines([f"*did not finish within 1.5s {canceled}(gave up after 1.?s)*"])
    assert len(replicate_env.canceled) == (1 if where == "poll" else 0)  # a finished prediction needs no cancel


def test_timeout_bounds_a_hanging_poll(pytester, write_eval, replicate_env):
    replicate_env.latency = 30
    replicate_env.add_fault(Fault("slow", delay=30, method="GET", times=5))
    write_eval(suite("timeout: 1\nwait: 0"))
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*did not finish within 1s and was canceled (gave up after 1.?s)*"])
    assert len(replicate_env.canceled) == 1


def test_cancel_after_tells_replicate_the_timeout(pytester, write_eval, replicate_env):
    write_eval(suite())
    pytester.runpytest().assert_outcomes(passed=1)
    assert replicate_env.requests[0].headers["cancel-after"] == "300s"


@pytest.mark.parametrize("blocker", ["file", "read-only"])
def test_an_unwritable_cassette_folder_fails_before_the_call(pytester, write_eval, replicate_env, blocker):
    write_eval(suite())
    if blocker == "file":
        (pytester.path / "cassettes").write_text("not a folder")
        expected = "*cannot record cassette cassettes/suite.eval/*: cassettes is a file, not a folder*"
    else:
        if os.geteuid() == 0:
            pytest.skip("root writes into read-only folders")
        (pytester.path / "cassettes").mkdir()
        (pytester.path / "cassettes").chmod(0o500)
        expected = "*cannot record cassette cassettes/suite.eval/*: Permission denied in cassettes*"
    try:
        result = pytester.runpytest()
    finally:
        if blocker == "read-only":
            (pytester.path / "cassettes").chmod(0o700)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([expected])
    assert replicate_env.requests == []  # nothing was paid for


def test_a_cassette_that_cannot_be_saved_after_the_call_is_one_clear_failure(pytester, write_eval, replicate_env,
                                                                             monkeypatch):
    def full_disk(source, destination):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("pytest_replicate.cassettes.cassette.os.replace", full_disk)
    write_eval(suite())
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*cannot save cassette cassettes/suite.eval/*: No space left on device; the calls were "
                                 "made but their recording is lost*"])
    assert_no_traceback(result)


def set_code(response: dict) -> None:
    response["status"]["code"] = "abc"


def drop_status(response: dict) -> None:
    body = json.loads(response["body"]["string"])
    del body["status"]
    response["body"]["string"] = json.dumps(body)


def not_json(response: dict) -> None:
    response["body"]["string"] = "Service Unavailable"


@pytest.mark.parametrize(("edit", "expected"), [
    (set_code, "*cassette cassettes/suite.eval/*.yaml holds a malformed response for POST /v1/models/*: "
               "status code 'abc' is not an HTTP status*"),
    (drop_status, "*got an object without status*(replayed from cassette cassettes/suite.eval/*.yaml)*"),
    (not_json, "*expected a prediction object*got application/json 'Service Unavailable'*"
               "(replayed from cassette cassettes/suite.eval/*"),
])
def test_a_broken_cassette_fails_its_item_naming_the_file(pytester, write_eval, replicate_env, edit, expected):
    write_eval(suite())
    pytester.runpytest().assert_outcomes(passed=1)
    (cassette,) = (pytester.path / "cassettes").rglob("*.yaml")
    recorded = deserialize(cassette.read_text())  # as vcrpy holds it: bodies are text
    edit(recorded["interactions"][0]["response"])
    cassette.write_text(yaml.safe_dump(recorded))
    result = pytester.runpytest("--record-mode=none")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([expected])
    assert "Traceback" not in result.stdout.str()


def test_default_moderation_model_runs_by_its_latest_version(pytester, write_eval, monkeypatch):
    """As on the real API, Llama Guard 3 has no official endpoint: its latest version runs."""
    from pytest_replicate.simulator import Simulator

    with Simulator(strict=True) as strict:
        monkeypatch.setenv("REPLICATE_BASE_URL", strict.url)
        monkeypatch.setenv("REPLICATE_API_TOKEN", FAKE_TOKEN)
        write_eval("prompts: ['{{ q }}']\nproviders: [echo]\n"
                   "tests:\n  - vars: {q: What is the capital of France?}\n    assert: [{type: moderation}]\n")
        pytester.runpytest().assert_outcomes(passed=1)
        paths = [(r.method, r.path) for r in strict.requests]
    assert paths == [("POST", "/v1/models/meta/llama-guard-3-8b/predictions"),
                     ("GET", "/v1/models/meta/llama-guard-3-8b"), ("POST", "/v1/predictions")]


def test_a_create_answered_5xx_after_creating_is_adopted_recorded_and_replayed(pytester, write_eval, replicate_env,
                                                                              monkeypatch):
    replicate_env.add_fault(Fault("created_then_status", status=503))
    write_eval(suite("wait: 0"))
    pytester.runpytest().assert_outcomes(passed=1)
    assert replicate_env.creates_per_model() == {"meta/llama-2-7b-chat": 1}  # found, not created again
    assert ("GET", "/v1/predictions") in [(r.method, r.path) for r in replicate_env.requests]
    monkeypatch.delenv("REPLICATE_API_TOKEN")
    replicate_env.stop()
    pytester.runpytest("--record-mode=none").assert_outcomes(passed=1)
