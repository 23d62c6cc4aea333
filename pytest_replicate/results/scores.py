"""Mean score per named metric (an assertion's ``metric``) per eval file, for the summary.

promptfoo shows each metric's score across an eval; we show it per eval file, since one
pytest run may hold many. Each case counts once per metric (its own mean for that metric),
and the counts travel from pytest-xdist workers to the controller as plain data.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any


class MetricScores:
    def __init__(self) -> None:
        self._sums: dict[str, dict[str, list[float]]] = {}  # file -> metric -> [sum, count]
        self._lock = threading.Lock()

    def add(self, file: str, named_scores: Mapping[str, float]) -> None:
        """One case's scores: each metric counts once."""
        self.merge({file: {metric: (score, 1) for metric, score in named_scores.items()}})

    def as_dict(self) -> dict[str, dict[str, list[float]]]:
        with self._lock:
            return {file: {metric: list(total) for metric, total in metrics.items()}
                    for file, metrics in self._sums.items()}

    def merge(self, data: Mapping[str, Any]) -> None:
        with self._lock:
            for file, metrics in data.items():
                for metric, (score, count) in metrics.items():
                    total = self._sums.setdefault(file, {}).setdefault(metric, [0.0, 0])
                    total[0] += score
                    total[1] += count

    def lines(self) -> list[str]:
        """``file: metric 0.83 (6 cases), ...`` per file, in name order."""
        data = self.as_dict()
        return [f"{file}: " + ", ".join(f"{metric} {score / count:.2f} ({int(count)} case{'s' if count != 1 else ''})"
                                        for metric, (score, count) in sorted(metrics.items()))
                for file, metrics in sorted(data.items())]
