"""Run-wide counters the terminal summary shows, summed across pytest-xdist workers.

Only what no single case result can tell lives here: cassette exchanges (test functions
using the fixtures count too), the scheduler's throttling and peak, the models that ran
by their latest version, and the live spend (graders' calls included). Figures that follow from the cases (latency, metric means) are
derived from the collected results instead (``report/model.py``).

Every change, local or from a worker, goes through :meth:`RunStats.merge`, so a figure is
combined one way whether it was counted here or in another process.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..cassettes.cassette import CassetteStats

_SUMMED = ("replayed", "recorded", "missed", "sent", "throttled", "live_calls", "unpriced")


@dataclass
class RunStats(CassetteStats):
    """Cassettes count into it as a :class:`CassetteStats`; the scheduler and xdist merge into it."""

    throttled: int = 0  # 429 answers seen
    lowest_limit: int | None = None  # the adaptive concurrency limit's low point, when throttled
    peak: int = 0  # most live calls (not replays) running at once in any one process
    versions: dict[str, str] = field(default_factory=dict)  # model -> the version it ran by (no official endpoint)
    live_calls: int = 0  # predictions created live (not replayed), graders' included
    unpriced: int = 0  # of those, the ones whose cost is unknown (no price configured, no metrics)
    spent: float = 0.0  # dollars, the known costs of the live calls

    def add(self, counts: Mapping[str, Any]) -> None:
        """What cassettes call for each exchange (``CassetteStats.count``): the same as a merge."""
        self.merge(counts)

    def merge(self, data: Mapping[str, Any]) -> None:
        """Fold in ``data`` (a part of :meth:`as_dict`): counts add up, the peak is the highest,
        the lowest limit the lowest, versions are united."""
        with self._lock:
            for name in _SUMMED:
                setattr(self, name, getattr(self, name) + int(data.get(name, 0)))
            self.spent += float(data.get("spent", 0.0))
            self.peak = max(self.peak, int(data.get("peak", 0)))
            limit = data.get("lowest_limit")
            if limit is not None:
                self.lowest_limit = limit if self.lowest_limit is None else min(self.lowest_limit, limit)
            self.versions.update(data.get("versions", {}))

    def as_dict(self) -> dict[str, Any]:
        """Plain data: what an xdist worker sends to the controller."""
        with self._lock:
            return {**{name: getattr(self, name) for name in _SUMMED}, "spent": self.spent, "peak": self.peak,
                    "lowest_limit": self.lowest_limit, "versions": dict(self.versions)}


class CaseExchanges(CassetteStats):
    """One case's cassette exchanges, which tell whether it went live or was replayed; also
    counted in the run's :class:`RunStats`."""

    def __init__(self, run: CassetteStats) -> None:
        super().__init__()
        self._run = run

    def add(self, counts: dict[str, int]) -> None:
        super().add(counts)
        self._run.add(counts)
