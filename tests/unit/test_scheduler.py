"""The scheduler's bounds, its adaptive limit and stopping, without pytest or HTTP."""

from __future__ import annotations

import threading
from concurrent.futures import CancelledError

import pytest

from pytest_replicate.run.scheduler import Scheduler


class Gate:
    """Work that blocks until opened, counting how many run at once."""

    def __init__(self) -> None:
        self.open = threading.Event()
        self.running = 0
        self.peak = 0
        self.lock = threading.Lock()

    def work(self, value: int = 0):
        def run() -> int:
            with self.lock:
                self.running += 1
                self.peak = max(self.peak, self.running)
            self.open.wait(5)
            with self.lock:
                self.running -= 1
            return value

        return run


def test_results_come_back_per_key_and_the_bound_holds() -> None:
    gate, scheduler = Gate(), Scheduler(3)
    for n in range(10):
        scheduler.submit(n, gate.work(n * n))
    threading.Timer(0.2, gate.open.set).start()
    assert [scheduler.result(n) for n in range(10)] == [n * n for n in range(10)]
    assert gate.peak == 3


def test_the_peak_counts_jobs_whose_requests_go_live() -> None:
    gate, scheduler = Gate(), Scheduler(4)

    def call(n: int):
        work = gate.work()

        def run() -> None:
            scheduler.request_sent(n, live=n % 2 == 0)  # odd jobs replay their cassettes
            work()
        return run

    for n in range(4):
        scheduler.submit(n, call(n))
    threading.Timer(0.2, gate.open.set).start()
    for n in range(4):
        scheduler.result(n)
    assert gate.peak == 4 and scheduler.stats.peak == 2


def test_a_group_limit_bounds_its_jobs_but_not_others() -> None:
    gate, scheduler = Gate(), Scheduler(4)
    for n in range(4):
        scheduler.submit(("a", n), gate.work(), group="a", group_limit=1)
    scheduler.submit("b", lambda: "b")
    assert scheduler.result("b") == "b"  # not stuck behind the limited group
    gate.open.set()
    for n in range(4):
        scheduler.result(("a", n))
    assert gate.peak == 1


def test_submitting_a_key_twice_runs_it_once() -> None:
    calls = []
    scheduler = Scheduler(2)
    for _ in range(3):
        scheduler.submit("k", lambda: calls.append(1))
    scheduler.result("k")
    assert calls == [1]


def test_stop_drops_queued_work() -> None:
    gate, scheduler = Gate(), Scheduler(1)
    scheduler.submit("running", gate.work())
    scheduler.submit("queued", gate.work())
    threading.Timer(0.1, gate.open.set).start()
    scheduler.stop()
    with pytest.raises(CancelledError):
        scheduler.result("queued")
    scheduler.submit("late", lambda: None)
    assert not scheduler.submitted("late")


def test_errors_reach_the_waiting_caller() -> None:
    scheduler = Scheduler(2)

    def fail() -> None:
        raise KeyboardInterrupt  # even BaseException, never a traceback in the worker

    scheduler.submit("x", fail)
    with pytest.raises(KeyboardInterrupt):
        scheduler.result("x")


def test_throttling_halves_the_limit_and_relief_restores_it() -> None:
    scheduler = Scheduler(8)
    scheduler.throttled(1.0)
    scheduler.throttled(1.0)  # the same burst: lowered once
    assert scheduler.limit == 4 and scheduler.stats.throttled == 2 and scheduler.stats.lowest_limit == 4
    for _ in range(4 + 5 + 6 + 7):
        scheduler.relieved()
    assert scheduler.limit == 8


def test_bookkeeping_waits_until_the_next_call_has_sent_its_request() -> None:
    scheduler = Scheduler(1)
    order: list[str] = []
    submitted = threading.Event()

    def first() -> None:
        assert submitted.wait(5)
        scheduler.release_slot()
        scheduler.wait_for_starts(limit=30)  # a cassette would be saved after this
        order.append("first saves")

    def second() -> None:
        order.append("second starts")
        scheduler.request_sent(2)
        order.append("second sent")  # wait_for_starts ends at request_sent: the GIL decides

    scheduler.submit(1, first)
    scheduler.submit(2, second)
    submitted.set()
    scheduler.result(1)
    scheduler.result(2)
    assert order.index("second starts") < order.index("first saves")


def test_waiting_for_starts_ends_when_no_thread_can_take_the_free_slot() -> None:
    scheduler = Scheduler(1)  # two threads
    blocked = threading.Event()
    unblock = threading.Event()

    def released_then_busy() -> None:
        scheduler.release_slot()
        blocked.set()
        assert unblock.wait(30)

    def released_then_waits() -> None:
        scheduler.release_slot()
        scheduler.wait_for_starts(limit=30)  # a free slot and a queued job, but no idle thread
        unblock.set()

    scheduler.submit(0, released_then_busy)
    assert blocked.wait(5)
    scheduler.submit(1, released_then_waits)
    scheduler.submit(2, lambda: None)
    assert unblock.wait(5)  # it did not wait its 30 s
    scheduler.result(2)


def test_waiting_for_starts_is_bounded_and_ends_when_stopping() -> None:
    scheduler = Scheduler(1)
    holding = threading.Event()
    release = threading.Event()

    def silent() -> None:  # holds its slot and never sends a request
        holding.set()
        release.wait(30)

    scheduler.submit(1, silent)
    assert holding.wait(5)
    scheduler.wait_for_starts(limit=0.01)  # returns although a call is still starting
    waiter = threading.Thread(target=scheduler.wait_for_starts, kwargs={"limit": 30})
    waiter.start()
    scheduler.stop(wait=0)  # the call is still starting: stopping ends the wait
    waiter.join(5)
    assert not waiter.is_alive()
    release.set()


def test_release_slot_lets_the_next_job_start_while_work_finishes() -> None:
    scheduler = Scheduler(1)
    finishing = threading.Event()
    started_second = threading.Event()

    def first() -> None:
        scheduler.release_slot()
        assert started_second.wait(5)  # the second job got the slot while this one still runs
        finishing.set()

    scheduler.submit(1, first)
    scheduler.submit(2, started_second.set)
    scheduler.result(1)
    assert finishing.is_set()
