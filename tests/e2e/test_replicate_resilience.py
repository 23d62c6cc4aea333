"""Retries, Retry-After, timeouts with cancel, and Ctrl-C, against injected faults."""

from __future__ import annotations

from helpers import interrupt_pytest_when

from pytest_replicate.simulator import Fault


def suite(extra_config: str = "") -> str:
    return (
        'prompts: ["What is the capital of {{ country }}?"]\n'
        "providers:\n"
        "  - id: replicate:meta/llama-2-7b-chat\n"
        "    config:\n"
        "      retry_backoff: 0.01\n"
        "      poll_interval: 0.02\n"
        + "".join(f"      {line}\n" for line in extra_config.strip().splitlines())
        + "tests:\n  - vars: {country: France}\n    assert: [{type: icontains, value: paris}]\n"
    )


def creates(simulator):
    return [r for r in simulator.requests if r.method == "POST" and r.path.endswith("/predictions")]


def polls(simulator):
    return [r for r in simulator.requests if r.method == "GET"]


def test_429_honours_retry_after(pytester, write_eval, replicate_env, sleeps):
    replicate_env.add_fault(Fault("status", status=429, retry_after=0.3))
    write_eval(suite())
    pytester.runpytest().assert_outcomes(passed=1)
    assert sleeps == [0.3]  # as the server asked, not the 0.01 s back-off
    assert len(creates(replicate_env)) == 2


def test_429_without_retry_after_uses_the_hint_in_the_detail(pytester, write_eval, replicate_env, sleeps):
    replicate_env.add_fault(Fault("status", status=429, detail="Request was throttled. Your rate limit resets in ~1s."))
    write_eval(suite())
    pytester.runpytest().assert_outcomes(passed=1)
    assert sleeps == [1.0]


def test_5xx_on_poll_is_retried(pytester, write_eval, replicate_env):
    replicate_env.latency = 0.1
    replicate_env.add_fault(Fault("status", status=500, method="GET"))
    write_eval(suite("wait: 0"))
    pytester.runpytest().assert_outcomes(passed=1)
    assert len(creates(replicate_env)) == 1


def test_5xx_on_create_that_made_nothing_is_resent_recorded_and_replayed_without_sleeping(
        pytester, write_eval, replicate_env, monkeypatch, sleeps):
    """A brief outage (two creates answered 503, nothing made) does not fail the item."""
    replicate_env.add_fault(Fault("status", status=503, method="POST", times=2))
    write_eval(suite())
    pytester.runpytest().assert_outcomes(passed=1)
    assert len(creates(replicate_env)) == 3 and len(replicate_env.predictions_created()) == 1
    # each 503: the listing, a re-check after retry_backoff, then back-off before the next create
    assert len(sleeps) == 4 and sleeps[0] == sleeps[2] == 0.01  # re-checks: retry_backoff; then back-off
    monkeypatch.delenv("REPLICATE_API_TOKEN")
    replicate_env.stop()
    sleeps.clear()
    pytester.runpytest("--record-mode=none").assert_outcomes(passed=1)
    assert sleeps == []  # replay never sleeps


def test_5xx_on_every_create_fails_after_max_retries(pytester, write_eval, replicate_env):
    replicate_env.add_fault(Fault("status", status=503, method="POST", times=10))
    write_eval(suite("max_retries: 1"))
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*creating a prediction of meta/llama-2-7b-chat failed 2 times, the last with "
                                 "HTTP 503 *; no prediction was made*raise max_retries in the provider config*"])
    assert len(creates(replicate_env)) == 2 and replicate_env.predictions_created() == []


def test_retries_are_bounded(pytester, write_eval, replicate_env):
    replicate_env.latency = 5
    replicate_env.add_fault(Fault("status", status=500, times=10, method="GET"))
    write_eval(suite("max_retries: 2\nwait: 0"))
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*Replicate answered 500*"])
    assert len(polls(replicate_env)) == 3


def test_dropped_create_is_not_resent(pytester, write_eval, replicate_env):
    replicate_env.add_fault(Fault("drop", method="POST"))
    write_eval(suite())
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*not retried, because the prediction may have been created*"])
    assert len(creates(replicate_env)) == 1


def test_dropped_poll_is_retried(pytester, write_eval, replicate_env):
    replicate_env.latency = 0.1
    replicate_env.add_fault(Fault("drop", method="GET"))
    write_eval(suite("wait: 0"))
    pytester.runpytest().assert_outcomes(passed=1)


def test_timeout_cancels_the_prediction(pytester, write_eval, replicate_env):
    replicate_env.latency = 30
    write_eval(suite("wait: 0\ntimeout: 0.2"))
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*did not finish within 0.2s and was canceled*"])
    assert len(replicate_env.canceled) == 1


def test_ctrl_c_cancels_in_flight_predictions(pytester, write_eval, replicate_env):
    replicate_env.latency = 30
    write_eval(suite("wait: 0"))
    # Interrupt once the client is polling, i.e. it knows the prediction's id.
    interrupt_pytest_when(pytester, lambda: polls(replicate_env))
    assert len(replicate_env.canceled) == 1


def test_an_answer_past_the_size_limit_fails_its_item_and_records_nothing(pytester, write_eval, replicate_env):
    replicate_env.change_answer("meta/llama-2-7b-chat", "France", "Paris " * 5000)  # 30 KB of output
    write_eval(suite())
    result = pytester.runpytest("--replicate-max-response-size=10KB")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        f"*the answer to POST {replicate_env.url}/v1/models/meta/llama-2-7b-chat/predictions is larger than the "
        "10 KB limit (it declares * KB); nothing of it was recorded. If the model's output is meant to be that "
        "large, raise it with --replicate-max-response-size or the replicate_max_response_size ini key*"])
    assert not list(pytester.path.rglob("cassettes/**/*.yaml"))

    pytester.makeini("[pytest]\nreplicate_max_response_size = 1MB\n")
    pytester.runpytest().assert_outcomes(passed=1)
    assert list(pytester.path.rglob("cassettes/**/*.yaml"))


def test_a_size_that_is_not_one_is_a_usage_error(pytester, write_eval):
    write_eval(suite())
    result = pytester.runpytest("--replicate-max-response-size=lots")
    assert result.ret == 4
    result.stderr.fnmatch_lines(["*--replicate-max-response-size = 'lots': give a size such as 20MB, 500KB, 1.5GB*"])
