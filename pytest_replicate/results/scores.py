"""Figures derived from the collected case results: the summary's latencies and metric means.

promptfoo shows each metric's score across an eval; we show it per eval file, since one
pytest run may hold many. Each case counts once per metric (its own mean for that metric).
The results are the same plain data in a plain run and under pytest-xdist, so the figures
are too.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..errors import display_path


def live_durations(results: Iterable[dict[str, Any]]) -> list[float]:
    """Seconds each case that called a model live took, sorted."""
    return sorted(result["duration"] for result in results if result["live"])


def metric_means(results: Iterable[dict[str, Any]]) -> dict[str, dict[str, tuple[float, int]]]:
    """File (as displayed) -> metric -> (mean score, number of cases)."""
    totals: dict[str, dict[str, list[float]]] = {}  # file -> metric -> [sum, count]
    for result in results:
        for metric, score in result["named_scores"].items():
            total = totals.setdefault(result["file"], {}).setdefault(metric, [0.0, 0])
            total[0] += score
            total[1] += 1
    # display_path may resolve the path: once per file, not per case.
    return {display_path(file): {metric: (score / count, int(count)) for metric, (score, count) in metrics.items()}
            for file, metrics in totals.items()}
