"""The plugin's sections of pytest's terminal summary.

Counts come from the run's :class:`RunStats`, per-case figures from the collected case
results; both are merged across pytest-xdist workers, so ``-n 2`` shows what a plain run does.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..providers.replicate.text import resolved_version_lines
from ..results.scores import live_durations, metric_means

if TYPE_CHECKING:  # it loads vcrpy (through the cassette counts), imported at configure time
    from ..results.stats import RunStats


def summary_sections(stats: RunStats, results: Sequence[dict[str, Any]], *, record_mode: str,
                     versions: dict[str, str]) -> list[tuple[str, list[str]]]:
    """(title, lines) for each section worth showing; none when no call was made."""
    sections = []
    if stats.total:
        sections.append(("replicate cassettes", [
            f"{stats.replayed} replayed, {stats.recorded} recorded, {stats.missed} missed "
            f"(record mode: {record_mode})"
        ]))
    latencies = live_durations(results)
    if latencies:
        line = (f"{len(latencies)} calls ran live: p50 {_percentile(latencies, 50):.2f}s, "
                f"p95 {_percentile(latencies, 95):.2f}s, peak concurrency {max(stats.peak, 1)}")
        if stats.throttled:
            line += f"; throttled {stats.throttled} times"
            if stats.lowest_limit is not None:
                line += f", slowed to {stats.lowest_limit} at once"
        sections.append(("replicate calls", [line]))
    version_lines = resolved_version_lines(versions)
    if version_lines:
        sections.append(("replicate models", version_lines))
    metric_lines = [f"{file}: " + ", ".join(f"{metric} {mean:.2f} ({count} case{'s' if count != 1 else ''})"
                                            for metric, (mean, count) in sorted(metrics.items()))
                    for file, metrics in sorted(metric_means(results).items())]
    if metric_lines:
        sections.append(("replicate metrics (mean score per named metric)", metric_lines))
    return sections


def _percentile(values: list[float], percent: float) -> float:
    """Nearest-rank percentile of sorted ``values``."""
    rank = max(1, round(percent / 100 * len(values) + 0.4999))
    return values[min(rank, len(values)) - 1]
