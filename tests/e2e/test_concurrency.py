"""Provider calls run concurrently while pytest reports items in order, as a serial run would."""

from __future__ import annotations

import re
import signal
import time

import pytest
from helpers import interrupt_pytest_when

from pytest_replicate.simulator import Fault, RateLimit


def suite(cases: int, *, config: str = "poll_interval: 0.02, wait: 0", extra: str = "", failing: tuple[int, ...] = ()) -> str:
    """``cases`` Llama items named c0..cN; the ones in ``failing`` fail their assertion."""
    tests = "".join(
        f"  - description: c{i}\n    vars: {{n: '{i}'}}\n"
        + (f"    assert: [{{type: contains, value: 'no such text {i}'}}]\n" if i in failing else "")
        for i in range(cases)
    )
    return (
        'prompts: ["Say hello to number {{ n }}"]\n'
        f"providers:\n  - id: replicate:meta/llama-2-7b-chat\n    config: {{{config}}}\n{extra}"
        f"tests:\n{tests}"
    )


def item_lines(result: pytest.RunResult) -> list[str]:
    return [line for line in result.stdout.lines if re.match(r"^suite\.eval\.yaml::c\d+", line)]


def test_items_keep_collection_order_and_serial_outcomes(pytester, write_eval, replicate_env):
    replicate_env.latency = 0.05
    write_eval(suite(8, failing=(1, 6)))
    serial = pytester.runpytest("-v", "-p", "no:randomly", "--replicate-concurrency=1")
    concurrent = pytester.runpytest("-v", "--replicate-record-mode=rewrite", "--replicate-concurrency=4")
    serial.assert_outcomes(passed=6, failed=2)
    concurrent.assert_outcomes(passed=6, failed=2)
    strip = [re.sub(r"\s+\[\s*\d+%\]$", "", line) for line in item_lines(serial)]
    assert [re.sub(r"\s+\[\s*\d+%\]$", "", line) for line in item_lines(concurrent)] == strip
    assert [line.split("::")[1].split("[")[0] for line in strip] == [f"c{i}" for i in range(8)]


def test_cassettes_are_saved_after_the_next_calls_went_out_and_replay_never_waits(pytester, write_eval, replicate_env,
                                                                                  monkeypatch):
    from pytest_replicate.run.scheduler import Scheduler
    seen: dict[str, list] = {"sent": [], "waits": []}
    sent, wait = Scheduler.request_sent, Scheduler.wait_for_starts
    monkeypatch.setattr(Scheduler, "request_sent",
                        lambda self, key, live=True: (seen["sent"].append(key), sent(self, key, live=live))[1])
    monkeypatch.setattr(Scheduler, "wait_for_starts", lambda self, limit=0.02: (seen["waits"].append(1), wait(self, limit))[1])
    write_eval(suite(6))
    pytester.runpytest("--replicate-concurrency=3").assert_outcomes(passed=6)
    assert len(set(seen["sent"])) == 6  # every item's call told the scheduler its request went out
    assert len(seen["waits"]) == 6
    seen["waits"].clear()
    pytester.runpytest("--replicate-concurrency=3", "--record-mode=once").assert_outcomes(passed=6)  # replayed
    assert seen["waits"] == []  # nothing went live: nothing to make way for


def test_at_most_the_global_bound_run_at_once(pytester, write_eval, replicate_env):
    replicate_env.latency = 0.3
    write_eval(suite(9))
    result = pytester.runpytest("--replicate-concurrency=3")
    result.assert_outcomes(passed=9)
    assert replicate_env.peak_running() == 3
    result.stdout.fnmatch_lines(["*replicate calls*", "9 calls ran live: p50 *s, p95 *s, peak concurrency 3"])


def test_the_peak_counts_live_calls_only(pytester, write_eval, replicate_env):
    """Replayed items hold scheduler slots too, but the summary's peak is about calls to the API."""
    replicate_env.latency = 0.3
    write_eval(suite(2))
    pytester.runpytest().assert_outcomes(passed=2)  # recorded: c0 and c1 now replay
    write_eval(suite(4))
    result = pytester.runpytest("--replicate-concurrency=4")
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(["2 calls ran live: p50 *s, p95 *s, peak concurrency 2"])


def test_concurrency_1_is_strictly_serial(pytester, write_eval, replicate_env):
    replicate_env.latency = 0.1
    write_eval(suite(4))
    pytester.runpytest("--replicate-concurrency=1").assert_outcomes(passed=4)
    assert replicate_env.peak_running() == 1


def test_a_provider_max_concurrency_bounds_its_calls(pytester, write_eval, replicate_env):
    replicate_env.latency = 0.2
    write_eval(suite(4, config="poll_interval: 0.02, wait: 0, max_concurrency: 1"))
    pytester.runpytest("--replicate-concurrency=4").assert_outcomes(passed=4)
    assert replicate_env.peak_running() == 1
    # A scheduling setting, not a model input.
    assert all("max_concurrency" not in body["input"] for body in replicate_env.predictions_created())


def test_deselected_and_skipped_items_make_no_calls(pytester, write_eval, replicate_env):
    write_eval(suite(6))
    pytester.makeconftest(
        """
        import pytest

        def pytest_collection_modifyitems(items):
            for item in items:
                if "c2" in item.name:
                    item.add_marker(pytest.mark.skip(reason="not today"))
        """
    )
    result = pytester.runpytest("-k", "c1 or c2 or c3", "--replicate-concurrency=4")
    result.assert_outcomes(passed=2, skipped=1)
    prompts = sorted(body["input"]["prompt"] for body in replicate_env.predictions_created())
    assert prompts == ["Say hello to number 1", "Say hello to number 3"]


def test_exitfirst_drops_queued_calls_and_cancels_running_ones(pytester, write_eval, replicate_env):
    replicate_env.latency = 3.0
    write_eval("prompts: ['x']\nproviders: [echo]\ntests: [{assert: [{type: equals, value: 'y'}]}]\n", "a.eval.yaml")
    write_eval(suite(10))
    result = pytester.runpytest("-x", "--replicate-concurrency=3")
    result.assert_outcomes(failed=1)
    created = replicate_env.predictions_created()
    # The queued seven never started; a running call may stop before its create is even sent.
    assert len(created) <= 3
    assert len(replicate_env.canceled) == len(created)  # and none is left running


def test_ctrl_c_cancels_every_running_prediction(pytester, write_eval, replicate_env):
    replicate_env.latency = 5.0
    write_eval(suite(8))
    process = interrupt_pytest_when(pytester, lambda: len(replicate_env.predictions_created()) >= 3,
                                    args=("--replicate-concurrency=3",))
    assert process.returncode == pytest.ExitCode.INTERRUPTED
    deadline = time.monotonic() + 5
    while len(replicate_env.canceled) < len(replicate_env.predictions_created()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(replicate_env.predictions_created()) == 3
    assert len(replicate_env.canceled) == 3
    stderr = process.stderr.read().decode() if process.stderr else ""
    assert "Traceback" not in stderr and "Exception in thread" not in stderr


@pytest.mark.parametrize("name", ["SIGTERM", "SIGHUP"])
def test_sigterm_and_sighup_cancel_like_ctrl_c(pytester, write_eval, replicate_env, name):
    """CI systems and timeout(1) cancel a job with SIGTERM: nothing may be left running, and the log says why."""
    replicate_env.latency = 5.0
    write_eval(suite(8))
    process = interrupt_pytest_when(pytester, lambda: len(replicate_env.predictions_created()) >= 3,
                                    args=("--replicate-concurrency=3",), signal_name=name)
    assert process.returncode == pytest.ExitCode.INTERRUPTED
    assert len(replicate_env.predictions_created()) == 3
    assert len(replicate_env.canceled) == 3  # canceled before the process ended
    stdout = process.stdout.read().decode() if process.stdout else ""
    stderr = process.stderr.read().decode() if process.stderr else ""
    assert f"pytest-replicate: {name} received: the run stopped as on Ctrl-C and 3 predictions in flight were " \
           "canceled" in stdout
    assert "Traceback" not in stderr and "Exception in thread" not in stderr


def test_sigterm_stops_an_xdist_run_and_its_workers_cancel(pytester, write_eval, replicate_env):
    """xdist leaves the controller to SIGTERM's default: it would vanish, its workers canceling later unseen."""
    replicate_env.latency = 8.0
    write_eval(suite(8))
    process = interrupt_pytest_when(pytester, lambda: len(replicate_env.predictions_created()) >= 4,
                                    args=("-p", "xdist", "-n", "2", "--replicate-concurrency=2"), signal_name="SIGTERM")
    assert process.returncode == pytest.ExitCode.INTERRUPTED
    stdout = process.stdout.read().decode() if process.stdout else ""
    assert ("pytest-replicate: SIGTERM received: the run stopped as on Ctrl-C and the xdist workers cancel the "
            "predictions they have in flight") in stdout
    deadline = time.monotonic() + 10  # a worker is told to stop within 5 s (execnet), then cancels
    while len(replicate_env.canceled) < len(replicate_env.predictions_created()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(replicate_env.canceled) == len(replicate_env.predictions_created()) == 4


def test_the_previous_signal_handlers_are_back_after_the_run(pytester, write_eval, replicate_env):
    before = [signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGHUP)]
    write_eval(suite(1))
    pytester.runpytest().assert_outcomes(passed=1)
    assert [signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGHUP)] == before


def test_a_suite_larger_than_the_rate_limit_still_passes(pytester, write_eval, replicate_env):
    replicate_env.latency = 0.1
    replicate_env.rate_limit = RateLimit(concurrent=2, retry_after=0.05)
    write_eval(suite(10, config="poll_interval: 0.02, wait: 0, retry_backoff: 0.01, max_retries: 30"))
    pytester.runpytest("--replicate-concurrency=6").assert_outcomes(passed=10)
    assert replicate_env.throttled() > 0 and replicate_env.peak_running() <= 2
    assert replicate_env.creates_per_model() == {"meta/llama-2-7b-chat": 10}  # none created twice


def test_throttling_slows_the_run_instead_of_failing_it(pytester, write_eval, replicate_env):
    replicate_env.add_fault(Fault("status", status=429, times=6, method="POST", retry_after=0.01,
                                  detail="Request was throttled."))
    write_eval(suite(6, config="poll_interval: 0.02, wait: 0, retry_backoff: 0.01, max_retries: 8"))
    result = pytester.runpytest("--replicate-concurrency=4")
    result.assert_outcomes(passed=6)
    result.stdout.fnmatch_lines(["6 calls ran live: * peak concurrency *; throttled 6 times, slowed to * at once"])


def test_provider_delay_waits_after_live_calls_only(pytester, write_eval, replicate_env, sleeps):
    write_eval(suite(2, extra="    delay: 250\n"))
    pytester.runpytest("--replicate-concurrency=2").assert_outcomes(passed=2)
    assert sleeps.count(0.25) == 2
    sleeps.clear()
    pytester.runpytest("--record-mode=none", "--replicate-concurrency=2").assert_outcomes(passed=2)
    assert 0.25 not in sleeps


def test_replay_under_concurrency_is_deterministic(pytester, write_eval, replicate_env, monkeypatch):
    write_eval(suite(12, failing=(4,)))
    recorded = pytester.runpytest("-v", "--replicate-concurrency=4")
    recorded.assert_outcomes(passed=11, failed=1)
    replicate_env.stop()
    monkeypatch.delenv("REPLICATE_API_TOKEN")
    # "once" replays what is recorded through the scheduler; "none" (CI) replays in order.
    first = pytester.runpytest("-v", "--record-mode=once", "--replicate-concurrency=4")
    second = pytester.runpytest("-v", "--record-mode=none", "--replicate-concurrency=4")
    first.assert_outcomes(passed=11, failed=1)
    assert item_lines(first) == item_lines(second) == item_lines(recorded)
    first.stdout.fnmatch_lines(["12 replayed, 0 recorded, 0 missed (record mode: once)"])


def test_xdist_workers_schedule_their_own_items(pytester, write_eval, replicate_env):
    pytest.importorskip("xdist")
    replicate_env.latency = 0.1
    write_eval(suite(10))
    result = pytester.runpytest("-p", "xdist", "-n", "2", "--replicate-concurrency=3")
    result.assert_outcomes(passed=10)
    assert len(replicate_env.predictions_created()) == 10  # each item called once, by one worker
    result.stdout.fnmatch_lines(["0 replayed, * recorded, 0 missed*", "10 calls ran live: *"])
