"""select-best and max-score: a case graded with its siblings' outputs, for the session.

A select-best (or max-score) item needs the outputs of the same test (same vars) under every prompt and
provider of its eval file, in column order. The session calls each such case's model
without grading it (the item's cassette stays open), and grades it when its item runs,
in pytest's main thread, once the siblings' outputs are known. Outputs never wait on
grading, so no call can wait on another in a cycle and the scheduler cannot deadlock.

The siblings are the cases the eval file's collection made (its items' own cases), so
their names and node ids are the items' and user code in vars runs once per case.

Where a sibling's output comes from:
- submitted to this process's scheduler: its (ungraded) result, waiting if need be;
- already called here (its item ran, or an earlier sibling asked for it): that result;
- otherwise, in a plain run: called now, in its own cassette, and kept for its own item;
- otherwise, under pytest-xdist (the sibling may run on another worker): called now
  inside the asking item's cassette, so that item replays on its own. Recording live
  with a non-deterministic model, that output may differ from the one the sibling's own
  item reports; replay is always consistent.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from ..assertions.base import Graders, Sibling
from ..cassettes.cassette import Cassette
from ..providers.base import CallContext, Provider
from ..results.case import CaseResult
from ..suite.model import Case, EvalSuite, ProviderSpec
from .runner import assertion_context, call_case, grade_case

COMPARING_TYPES = ("select-best", "max-score")


def needs_siblings(case: Case) -> bool:
    return any(spec.type in COMPARING_TYPES for spec in case.test.asserts)


@dataclass
class Held:
    """A called, ungraded case: what its grading still needs."""

    cassette: Cassette
    context: CallContext
    graders: Graders


class Calls(Protocol):
    """What select-best needs from the session (``EvalSession`` is one)."""

    distributed: bool  # other processes (xdist workers) run items too

    def scheduled(self, case: Case, nodeid: str) -> CaseResult | None: ...

    def run(self, case: Case, nodeid: str | None = None) -> CaseResult: ...

    def provider_for(self, spec: ProviderSpec, suite: EvalSuite) -> Provider: ...

    def cassette_done(self, cassette: Cassette, result: CaseResult) -> None: ...


class SelectBest:
    """The session's select-best state: the collected siblings, held cases and their results."""

    def __init__(self, calls: Calls) -> None:
        self.calls = calls
        self._siblings: dict[int, list[Case]] = {}  # id(test) -> its collected cases, in column order
        self._held: dict[str, Held] = {}  # called cases waiting to be graded, by node id
        self._called: dict[str, CaseResult] = {}  # called here for a sibling before their own item ran
        self._graded: dict[str, CaseResult] = {}  # results whose items already ran
        self._lock = threading.Lock()

    def add(self, cases: Iterable[Case]) -> None:
        """Note an eval file's collected cases; only select-best tests' are kept."""
        for case in cases:
            if needs_siblings(case):
                self._siblings.setdefault(id(case.test), []).append(case)

    def siblings(self, case: Case, nodeid: str) -> list[tuple[Case, str]]:
        """(case, node id) of every case of ``case``'s test and vars, in column order, itself included.

        Node ids share the eval file's prefix. A case that was not collected compares with itself only.
        """
        prefix = nodeid[: len(nodeid) - len(case.name)]
        cases = self._siblings.get(id(case.test), [case])
        return [(other, prefix + other.name) for other in cases if other.vars == case.vars]

    def hold(self, nodeid: str, held: Held) -> None:
        """Keep a called case's cassette and context until its item grades it."""
        with self._lock:
            self._held[nodeid] = held

    def take_called(self, nodeid: str) -> CaseResult | None:
        """The result called for a sibling before this item ran, if any (it is the item's now)."""
        with self._lock:
            return self._called.pop(nodeid, None)

    def grade(self, case: Case, nodeid: str, result: CaseResult) -> CaseResult:
        """Grade a select-best case with its siblings' outputs (main thread), then finish its cassette."""
        with self._lock:
            held = self._held.pop(nodeid, None)
        if held is None:  # not held: it could not even open its cassette
            return result
        if result.error is None:
            compared: list[Sibling] = []
            index = 0
            for sibling, sibling_id in self.siblings(case, nodeid):
                other = result if sibling_id == nodeid else self._sibling_result(sibling, sibling_id, held.context)
                if other.error is not None:
                    what = " and ".join(t for t in COMPARING_TYPES if any(a.type == t for a in case.test.asserts))
                    result.error = f"{what} needs the output of {sibling.name}, which failed: {other.error}"
                    result.call_failed = other.call_failed
                    break
                if sibling_id == nodeid:
                    index = len(compared)
                # A sibling's assertions (max-score grades them) run here, through this item's cassette.
                compared.append(Sibling(other.output, assertion_context(other, held.context, held.graders)))
            else:
                grade_case(result, held.context, graders=held.graders, compared=(compared, index))
        self.calls.cassette_done(held.cassette, result)
        with self._lock:
            self._graded[nodeid] = result
        return result

    def _sibling_result(self, case: Case, nodeid: str, context: CallContext) -> CaseResult:
        """A sibling's called (ungraded) result; the module docstring says where it comes from."""
        scheduled = self.calls.scheduled(case, nodeid)
        if scheduled is not None:
            return scheduled
        with self._lock:
            called = self._graded.get(nodeid) or self._called.get(nodeid)
        if called is not None:
            return called
        if self.calls.distributed:  # it may run on another worker: call it inside the asking item's cassette
            return call_case(case, self.calls.provider_for(case.provider, case.suite), context)
        called = self.calls.run(case, nodeid)
        with self._lock:
            self._called[nodeid] = called
        return called
