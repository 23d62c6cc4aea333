"""The drift section of the terminal summary (``--replicate-drift``), from case result dicts.

Counts first (outputs changed, verdict flips each way, cassettes updated, items without a
cassette, cost spent live), then each drifted item with its diff, the flips first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..text import counted

MAX_ITEMS = 10  # drifted items listed; the rest are counted (the JSON report has them all)


def drift_lines(results: Sequence[Mapping[str, Any]]) -> list[str]:
    """Summary lines for the results that carry ``drift`` data; none in a run without drift."""
    drifting = [result for result in results if result.get("drift")]
    if not drifting:
        return []
    compared = [result for result in drifting if result["drift"]["replayed"] is not None]
    changed = [result for result in compared if result["drift"]["output_changed"] or result["drift"]["verdict"]]
    flips = {verdict: sum(result["drift"]["verdict"] == verdict for result in compared)
             for verdict in ("pass→fail", "fail→pass")}
    updated = sum(result["drift"]["updated"] for result in compared)
    changed_outputs = sum(result["drift"]["output_changed"] for result in compared)
    lines = [f"{len(compared)} compared with their cassettes: {counted(changed_outputs, 'output')} changed, "
             f"{flips['pass→fail']} pass→fail, {flips['fail→pass']} fail→pass, {counted(updated, 'cassette')} updated"]
    missing = len(drifting) - len(compared)
    if missing:
        lines.append(f"{missing} without a cassette (nothing to compare; record them with --record-mode=once)")
    costs = [result["cost"] for result in drifting if result["cost"] is not None]
    if costs:
        unknown = len(drifting) - len(costs)
        lines.append(f"spent live: ${sum(costs):.6f}" + (f" ({unknown} calls of unknown cost)" if unknown else ""))
    changed.sort(key=lambda result: result["drift"]["verdict"] is None)  # flips first, else in collection order
    for result in changed[:MAX_ITEMS]:
        drift = result["drift"]
        what = drift["verdict"] or "output changed"
        lines.append(f"{what}: {result['nodeid']}" + (" (cassette updated)" if drift["updated"] else ""))
        lines.extend(f"    {line}" for line in (drift["diff"] or "").splitlines())
    if len(changed) > MAX_ITEMS:
        lines.append(f"... and {len(changed) - MAX_ITEMS} more drifted items")
    return lines

