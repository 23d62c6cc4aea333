"""The plugin's section of pytest's terminal summary."""

from __future__ import annotations

from ..http.cassettes import CassetteStats


def cassette_summary(stats: CassetteStats, record_mode: str) -> list[str]:
    """Lines under the ``replicate cassettes`` header; none when no call was made."""
    if not stats.total:
        return []
    return [f"{stats.replayed} replayed, {stats.recorded} recorded, {stats.missed} missed (record mode: {record_mode})"]
