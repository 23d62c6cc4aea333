"""What the run spent on live calls, and its cap, ``--replicate-max-cost``.

Providers charge every call that went live, graders' included (``CallContext.spend``): its
cost from the prediction's metrics and the provider's prices, or unknown. The figures live in
the session's ``RunStats``, so the summary shows them the same under pytest-xdist.

The cap is checked once per eval item, at its first request that would go to the network
(the ``BEFORE_LIVE`` request extension, see :class:`ItemGate`): once the spend reached the
limit, the item is refused before its first live call and skipped with the reason. Its later
requests pass, so a call in flight (polls, its graders) finishes and a paid prediction is
never abandoned; the spend may go past the limit by the calls in flight at that moment
(``--replicate-concurrency`` of them at most). Replayed items never reach the gate.

Under pytest-xdist the workers share the spend through a ledger file the controller names
(``pytest/xdist.py``): each charge is one line appended to it, which is atomic, and the
gate reads the sum, so the limit holds for the whole run rather than per worker.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path

from ..errors import SpendLimitReached
from ..results.stats import RunStats
from ..text import counted, dollars

UNKNOWN = "?"  # a ledger line for a call whose cost is unknown


@dataclass(frozen=True)
class Spent:
    """Dollars spent on ``calls`` live calls; ``unpriced`` of them have no known cost (not in ``dollars``)."""

    dollars: float = 0.0
    calls: int = 0
    unpriced: int = 0

    def describe(self) -> str:
        """``$0.0123 on 5 live calls (2 of unknown cost)``."""
        text = f"{dollars(self.dollars)} on {counted(self.calls, 'live call')}"
        return text + (f" ({self.unpriced} of unknown cost)" if self.unpriced else "")


class RunSpend:
    """The run's live spend (counted in ``stats``), its ``limit`` in dollars, and the ledger shared
    with other xdist workers, if any."""

    def __init__(self, stats: RunStats, limit: float | None = None, ledger: Path | None = None) -> None:
        self.stats = stats
        self.limit = limit
        self.ledger = ledger
        self._lock = threading.Lock()

    def charge(self, cost: float | None) -> None:
        """A call went live; ``cost`` in dollars, None when unknown."""
        self.stats.merge({"live_calls": 1, "unpriced": int(cost is None), "spent": cost or 0.0})
        if self.ledger is not None:
            line = f"{UNKNOWN if cost is None else repr(float(cost))}\n".encode()
            with self._lock:
                descriptor = os.open(self.ledger, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
                try:
                    os.write(descriptor, line)  # one short write to an O_APPEND file: never interleaved
                finally:
                    os.close(descriptor)

    def spent(self) -> Spent:
        """So far: the whole run's (every worker's, through the ledger) or this process's."""
        if self.ledger is not None:
            try:
                lines = self.ledger.read_text(encoding="ascii").split()
            except OSError:
                lines = []
            known = [float(line) for line in lines if line != UNKNOWN]
            return Spent(sum(known), len(lines), len(lines) - len(known))
        stats = self.stats.as_dict()
        return Spent(stats["spent"], stats["live_calls"], stats["unpriced"])

    def reached(self) -> str | None:
        """Why no new live call may start, or None while the spend is under the limit."""
        if self.limit is None:
            return None
        spent = self.spent()
        if spent.dollars < self.limit:
            return None
        return f"replicate max cost {dollars(self.limit)} reached (spent {spent.describe()})"

    def gate(self) -> ItemGate | None:
        """A gate for one eval item's requests; None without a limit."""
        return ItemGate(self) if self.limit is not None else None


class ItemGate:
    """Run before each of one item's requests that would go to the network: the first is refused
    once the spend reached the limit (``refused`` says why); after one passed, all pass."""

    def __init__(self, spend: RunSpend) -> None:
        self.spend = spend
        self.live = False
        self.refused: str | None = None

    def __call__(self) -> None:
        if self.live:
            return
        reason = self.spend.reached()
        if reason is not None:
            self.refused = reason
            raise SpendLimitReached(reason)
        self.live = True
