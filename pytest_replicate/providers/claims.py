"""Which predictions the calls of one session follow, so that each is followed by exactly one call.

A create answered 5xx may still have made its prediction, so the call looks it up in the list
of recent predictions (same model, same input) and adopts it. With identical inputs (two cases
rendering the same prompt, repeated samples) that lookup is ambiguous: the list shows every
call's prediction, and a call whose create is still held by ``Prefer: wait`` has not learnt its
prediction's id yet. So, per input:

* a call claims the prediction its create answered with *before* the create counts as settled;
* an adoption runs alone: it waits until no create of that input is out, holds new ones back,
  and claims what it picks before letting them go.

When the adopting call lists, every answered create's prediction is claimed, so the unclaimed
ones were made by calls that adopt, and each adoption takes a different one. Identical inputs
make those predictions interchangeable: which of them a call takes does not matter, only that
no two calls take the same one and none is left unwatched.

It also counts the predictions the calls canceled, for the line a stopped run ends with.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeVar

# How often a waiting call checks whether it should stop (Ctrl-C, its deadline).
CHECK_EVERY = 0.05

Prediction = TypeVar("Prediction", bound=Mapping[str, Any])  # a prediction object, with its ``id``


class PredictionClaims:
    """One session's claimed prediction ids, and its creates and adoptions in flight, per input.

    An input is named by a key (the create's path and body); thread-safe. The session makes one
    and hands it to every call through ``CallContext.claims``; a provider called without one
    keeps its own, so calls made through it still agree with each other.
    """

    def __init__(self) -> None:
        self._changed = threading.Condition(threading.Lock())
        self._claimed: set[str] = set()
        self._creating: Counter[str] = Counter()  # key -> creates sent and not yet answered
        self._adopting: Counter[str] = Counter()  # key -> adoptions waiting to run
        self._running: set[str] = set()  # keys with an adoption choosing now
        self._canceled: set[str] = set()

    def canceled(self, prediction_id: str) -> None:
        """Note that Replicate accepted a cancel of ``prediction_id``."""
        with self._changed:
            self._canceled.add(prediction_id)

    @property
    def canceled_count(self) -> int:
        with self._changed:
            return len(self._canceled)

    def claim(self, prediction_id: str) -> bool:
        """Note that a call follows ``prediction_id``; False if another call already does."""
        with self._changed:
            if prediction_id in self._claimed:
                return False
            self._claimed.add(prediction_id)
            return True

    @contextmanager
    def creating(self, key: str, check: Callable[[], None]) -> Iterator[None]:
        """Around one create and the claiming of its answer.

        It waits while an adoption of the same input runs or waits, so the adoption's listing
        shows no prediction whose create has not settled. ``check`` raises to stop waiting.
        """
        def ready() -> bool:
            return key not in self._running and not self._adopting[key]

        self._wait(ready, lambda: self._creating.update([key]), check)
        try:
            yield
        finally:
            with self._changed:
                _decrement(self._creating, key)
                self._changed.notify_all()

    def adopt(self, key: str, choose: Callable[[frozenset[str]], Prediction | None],
              check: Callable[[], None] | None, *, own_creates: int = 0) -> Prediction | None:
        """What ``choose`` picks from the ids claimed so far, claimed; it runs alone for ``key``.

        ``choose`` runs once no create of ``key`` is out (``own_creates`` of them may be the
        caller's own) and no other adoption of ``key`` runs. ``check`` raises to stop waiting;
        without it nothing waits: None if ``choose`` cannot run at once, or if another adoption
        of ``key`` is waiting (the prediction it waits to adopt could be taken for the caller's).
        """
        def ready() -> bool:
            return self._creating[key] <= own_creates and key not in self._running

        if check is None:
            with self._changed:
                if not ready() or self._adopting[key]:
                    return None
                self._running.add(key)
        else:
            with self._changed:
                self._adopting[key] += 1  # from now on, new creates of this input wait
            try:
                self._wait(ready, lambda: self._running.add(key), check)
            finally:
                with self._changed:
                    _decrement(self._adopting, key)
                    self._changed.notify_all()
        try:
            with self._changed:
                claimed = frozenset(self._claimed)
            chosen = choose(claimed)
            if chosen is not None:
                self.claim(str(chosen["id"]))
            return chosen
        finally:
            with self._changed:
                self._running.discard(key)
                self._changed.notify_all()

    def _wait(self, ready: Callable[[], bool], enter: Callable[[], None], check: Callable[[], None]) -> None:
        """Wait until ``ready()``, then ``enter()`` under the same lock; ``check`` runs unlocked between waits."""
        while True:
            with self._changed:
                if ready():
                    enter()
                    return
                self._changed.wait(CHECK_EVERY)
            check()


def _decrement(counter: Counter[str], key: str) -> None:
    """One less of ``key``; a key that reaches zero is dropped, so the counters do not grow with every input."""
    counter[key] -= 1
    if counter[key] <= 0:
        del counter[key]
