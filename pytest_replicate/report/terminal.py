"""The plugin's sections of pytest's terminal summary."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..providers.replicate.text import resolved_version_lines

if TYPE_CHECKING:
    from ..run.session import EvalSession


def summary_sections(session: EvalSession) -> list[tuple[str, list[str]]]:
    """(title, lines) for each section worth showing; none when no call was made."""
    sections = []
    stats = session.stats
    if stats.total:
        sections.append(("replicate cassettes", [
            f"{stats.replayed} replayed, {stats.recorded} recorded, {stats.missed} missed "
            f"(record mode: {session.settings.record_mode})"
        ]))
    calls = session.calls.as_dict(session.peak_concurrency)
    if calls["latencies"]:
        latencies = sorted(calls["latencies"])
        line = (f"{len(latencies)} calls ran live: p50 {_percentile(latencies, 50):.2f}s, "
                f"p95 {_percentile(latencies, 95):.2f}s, peak concurrency {calls['peak']}")
        scheduler = session.scheduler
        if scheduler is not None and scheduler.stats.throttled:
            line += (f"; throttled {scheduler.stats.throttled} times, slowed to "
                     f"{scheduler.stats.lowest_limit} at once")
        sections.append(("replicate calls", [line]))
    version_lines = resolved_version_lines(session.resolved_versions())
    if version_lines:
        sections.append(("replicate models", version_lines))
    metric_lines = session.scores.lines()
    if metric_lines:
        sections.append(("replicate metrics (mean score per named metric)", metric_lines))
    return sections


def _percentile(values: list[float], percent: float) -> float:
    """Nearest-rank percentile of sorted ``values``."""
    rank = max(1, round(percent / 100 * len(values) + 0.4999))
    return values[min(rank, len(values)) - 1]
