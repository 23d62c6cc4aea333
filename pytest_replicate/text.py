"""Text for messages: the one place that decides how long values are shortened."""

from __future__ import annotations

import math

MARKER = "..."


def shorten(text: str, limit: int) -> str:
    """``text`` whole when it fits in ``limit`` characters, else cut and marked with ``...``."""
    return text if len(text) <= limit else text[: limit - len(MARKER)] + MARKER


def counted(number: int, noun: str) -> str:
    """``1 case``, ``2 cases``: a count with its noun, for messages and summaries."""
    return f"{number} {noun}{'' if number == 1 else 's'}"


def one_line(text: str) -> str:
    """Runs of whitespace (newlines included) as single spaces: node ids are one line each."""
    return " ".join(text.split())


def dollars(amount: float) -> str:
    """An amount of money as summaries and messages show it: ``$0``, ``$0.50``, ``$0.0123``, ``$12.30``:
    cents at least, and below a dollar four significant digits at most."""
    if amount == 0:
        return "$0"
    if amount >= 1:
        return f"${amount:,.2f}"
    digits = f"{amount:.{3 - math.floor(math.log10(amount))}f}".rstrip("0")
    whole, _, cents = digits.partition(".")
    return f"${whole}.{cents.ljust(2, '0')}"
