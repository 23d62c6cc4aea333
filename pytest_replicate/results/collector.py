"""Gathers every eval item's result (plain data) in the main process, in collection order.

Results arrive as items finish: in order in a plain run, in any order from pytest-xdist
workers. Each is handed on (to the ``pytest_replicate_case_result`` hook) as soon as every
item collected before it has finished, so consumers see collection order either way, and
the results stay here, compact (``compact.py``), for reports written at the end.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from .compact import CompactResults

CaseData = dict[str, Any]  # CaseResult.to_dict() plus "nodeid" and "outcome"


class ResultsCollector:
    def __init__(self, emit: Callable[[CaseData], None]) -> None:
        self.results = CompactResults()  # handed on so far, in collection order
        self._emit = emit
        self._order: list[str] = []  # node ids in collection order
        self._next = 0  # position in _order of the first item not finished yet
        self._waiting: dict[str, CaseData] = {}  # results not handed on yet, by node id
        self._finished: set[str] = set()  # items over but not passed by _next yet

    def expect(self, nodeids: Iterable[str]) -> None:
        """The collected items' node ids, in order (known once collection is over)."""
        if not self._order:
            self._order = list(nodeids)

    def add(self, result: CaseData) -> None:
        """An item's case result; it waits until the item is over and every earlier one too."""
        self._waiting[result["nodeid"]] = result

    def finished(self, nodeid: str) -> None:
        """Item ``nodeid`` is over (whether or not it has a case result)."""
        self._finished.add(nodeid)
        while self._next < len(self._order) and self._order[self._next] in self._finished:
            nodeid = self._order[self._next]
            self._finished.discard(nodeid)
            self._hand_on(nodeid)
            self._next += 1

    def flush(self) -> None:
        """The run is over: hand on what is left (items after a stop, or of a crashed worker), in order."""
        position = {nodeid: index for index, nodeid in enumerate(self._order)}
        for nodeid in sorted(self._waiting, key=lambda nodeid: position.get(nodeid, len(position))):
            self._hand_on(nodeid)
        self._finished.clear()
        self._next = len(self._order)

    def _hand_on(self, nodeid: str) -> None:
        result = self._waiting.pop(nodeid, None)
        if result is not None:
            self.results.append(result)
            self._emit(result)
