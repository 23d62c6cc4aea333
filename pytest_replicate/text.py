"""Text for messages: the one place that decides how long values are shortened."""

from __future__ import annotations

MARKER = "..."


def shorten(text: str, limit: int) -> str:
    """``text`` whole when it fits in ``limit`` characters, else cut and marked with ``...``."""
    return text if len(text) <= limit else text[: limit - len(MARKER)] + MARKER


def one_line(text: str) -> str:
    """Runs of whitespace (newlines included) as single spaces: node ids are one line each."""
    return " ".join(text.split())
