"""Bounded concurrent execution of provider calls, ahead of pytest's own (serial) run loop.

pytest still runs items one by one, in collection order; each item's ``runtest`` waits for
its own result. The scheduler only starts the calls of upcoming items early, in worker
threads, under three bounds: the global concurrency, each provider's ``max_concurrency``,
and an adaptive limit that halves while the server throttles (429) and creeps back up
when it stops. Work that is done calling (saving a cassette) frees its slot first and then
lets the calls taking free slots send their requests before it goes on (``wait_for_starts``).
It knows nothing of pytest; the session feeds it the items ``pytest/items.py`` picks.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from ..results.stats import RunStats

# After a 429, the limit is not lowered again for this long: one burst of 429s answers
# one overload, and halving per response would collapse the limit to 1 at once.
_THROTTLE_WINDOW = 1.0


@dataclass
class _Job:
    key: Hashable
    group: Hashable  # jobs of one provider share its max_concurrency
    group_limit: int | None
    work: Callable[[], Any]
    future: Future[Any] = field(default_factory=Future)
    holds_slot: bool = False
    admitted: int = 0  # its place in the order jobs took slots (1, 2, ...)
    released_after: int = 0  # how many jobs had taken slots when it released its own
    live: bool = False  # it sent a request that may go to the network (the peak counts only these)


class Scheduler:
    """Runs submitted jobs on up to ``concurrency`` threads, first submitted first started."""

    def __init__(self, concurrency: int, stats: RunStats | None = None) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.concurrency = concurrency
        self.limit = concurrency  # lowered while the server throttles
        self.stats = stats or RunStats()  # its peak, 429s and lowest limit, for the summary
        self._queue: list[_Job] = []
        self._jobs: dict[Hashable, _Job] = {}
        self._active = 0
        self._live = 0  # slot holders whose calls go live
        self._admissions = 0
        self._starting: set[int] = set()  # admission numbers of slot holders that sent no request yet
        self._busy = 0  # threads running a job; the others take queued jobs
        self._group_active: dict[Hashable, int] = {}
        self._threads: list[threading.Thread] = []
        self._stopping = False
        self._successes = 0
        self._last_throttle = 0.0
        self._condition = threading.Condition()
        self._current = threading.local()  # the job a worker thread is running

    # -- submitting and waiting ---------------------------------------------------------

    def submit(self, key: Hashable, work: Callable[[], Any], *, group: Hashable = None,
               group_limit: int | None = None) -> None:
        """Queue ``work`` under ``key`` unless it is already queued, running or done."""
        with self._condition:
            if self._stopping or key in self._jobs:
                return
            job = _Job(key, group, group_limit, work)
            self._jobs[key] = job
            self._queue.append(job)
            self._start_threads()
            if self._active < self.limit:  # else a freed slot wakes a thread; waking one now would be for nothing
                self._condition.notify()

    def result(self, key: Hashable) -> Any:
        """The result of ``key``'s work, waiting for it; KeyError if it was never submitted."""
        with self._condition:
            job = self._jobs[key]
        return job.future.result()

    def submitted(self, key: Hashable) -> bool:
        with self._condition:
            return key in self._jobs

    def stop(self, *, wait: float = 10.0) -> None:
        """Drop queued work and wait (bounded) for running work, which the caller has told to cancel."""
        with self._condition:
            self._stopping = True
            for job in self._queue:
                job.future.cancel()
            self._queue.clear()
            self._condition.notify_all()
        deadline = time.monotonic() + wait
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    # -- backpressure (providers report through CallContext.backpressure) ------------------

    def throttled(self, retry_after: float | None) -> None:
        with self._condition:
            now = time.monotonic()
            lowered = now - self._last_throttle >= _THROTTLE_WINDOW and self.limit > 1
            if lowered:
                self.limit = max(1, self.limit // 2)
            self.stats.merge({"throttled": 1, "lowest_limit": self.limit if lowered else None})
            self._last_throttle = now
            self._successes = 0

    def relieved(self) -> None:
        with self._condition:
            if self.limit >= self.concurrency:
                return
            self._successes += 1
            if self._successes >= self.limit:  # one full round without a 429: one more slot
                self.limit += 1
                self._successes = 0
                self._condition.notify()

    # -- workers ------------------------------------------------------------------------

    def release_slot(self) -> None:
        """Called by running work whose calls are done (what is left, like saving a
        cassette, needs no model): the next call may start now."""
        job: _Job | None = getattr(self._current, "job", None)
        if job is None or not job.holds_slot:
            return
        with self._condition:
            job.holds_slot = False
            job.released_after = self._admissions
            self._active -= 1
            self._group_active[job.group] -= 1
            if job.live:
                self._live -= 1
            self._started(job)
            self._condition.notify_all()

    def request_sent(self, key: Hashable, *, live: bool = True) -> None:
        """``key``'s work sent a request (``live``: one its cassette may not answer): its call has started."""
        with self._condition:
            job = self._jobs.get(key)
            if job is not None:
                self._started(job)
                if live and job.holds_slot and not job.live:  # the peak counts live calls, not replays
                    job.live = True
                    self._live += 1
                    if self._live > self.stats.peak:
                        self.stats.merge({"peak": self._live})

    def wait_for_starts(self, limit: float = 0.02) -> None:
        """After releasing its slot, wait (at most ``limit`` seconds) for the calls that took
        slots since to send their first request.

        For work whose call went live and has bookkeeping left (saving a cassette). Threads
        share one interpreter lock: when calls end together, as they do at a fixed latency,
        that bookkeeping would otherwise hold back the next calls' requests. A free slot counts
        as a starting call while a queued job and a thread not running one can fill it.
        """
        job: _Job | None = getattr(self._current, "job", None)
        if job is None or job.holds_slot:
            return
        ticket = job.released_after

        def settled() -> bool:
            if self._stopping:
                return True
            if any(admitted > ticket for admitted in self._starting):
                return False
            idle = len(self._threads) > self._busy
            return not (idle and self._active < self.limit and self._first_admissible() is not None)

        with self._condition:
            self._condition.wait_for(settled, timeout=limit)

    def _started(self, job: _Job) -> None:
        """``job`` sent its first request or released its slot (lock held)."""
        if job.admitted in self._starting:
            self._starting.discard(job.admitted)
            self._condition.notify_all()

    def _start_threads(self) -> None:
        # Twice the slots: a thread that released its slot early may still be finishing.
        while len(self._threads) < min(2 * self.concurrency, len(self._jobs)):
            thread = threading.Thread(target=self._work, name=f"pytest-replicate-{len(self._threads)}", daemon=True)
            self._threads.append(thread)
            thread.start()

    def _next_job(self) -> _Job | None:
        """The first queued job that every bound admits, or None to stop."""
        with self._condition:
            while True:
                if self._stopping:
                    return None
                index = self._first_admissible() if self._active < self.limit else None
                if index is not None:
                    job = self._queue.pop(index)
                    job.holds_slot = True
                    self._admissions += 1
                    job.admitted = self._admissions
                    self._starting.add(job.admitted)
                    self._active += 1
                    self._group_active[job.group] = self._group_active.get(job.group, 0) + 1
                    self._busy += 1
                    return job
                self._condition.wait()

    def _first_admissible(self) -> int | None:
        """The index of the first queued job its provider's bound admits (lock held)."""
        for index, job in enumerate(self._queue):
            if job.group_limit is None or self._group_active.get(job.group, 0) < job.group_limit:
                return index
        return None

    def _work(self) -> None:
        while (job := self._next_job()) is not None:
            self._current.job = job
            if job.future.set_running_or_notify_cancel():
                try:
                    job.future.set_result(job.work())
                except BaseException as error:  # handed to the item that waits for it
                    job.future.set_exception(error)
            self.release_slot()
            self._current.job = None
            with self._condition:
                self._busy -= 1
