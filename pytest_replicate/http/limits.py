"""How large an answer may be: the default limit, and sizes as people write them (``20MB``).

Kept free of httpx so option parsing can use it at start-up. Why a limit at all: without one, a
runaway 50 MB answer held a 355 MB process and wrote a 51 MB cassette. Why 20 MB by default: a
prediction's JSON holds its whole output, and 20 MB is millions of words, far past any text
model's answer, while it still costs a few hundred MB of memory (the body, its text, the parsed
JSON, the cassette's copies). Image files rarely come near it (a 2048x2048 PNG is about 8 MB);
an upscaler's larger ones are worth a deliberate raise. One limit for every answer keeps one
setting to know.
"""

from __future__ import annotations

import math
import re

DEFAULT_MAX_RESPONSE_SIZE = 20_000_000
MAX_RESPONSE_SIZE_OPTION = "--replicate-max-response-size"
MAX_RESPONSE_SIZE_INI = "replicate_max_response_size"
SIZE_EXPECTED = "a size such as 20MB, 500KB, 1.5GB or a number of bytes"

_SIZE = re.compile(r"(\d+(?:\.\d+)?|\.\d+)\s*([kmg]i?b?|b|bytes?)?", re.IGNORECASE)
# KB, MB and GB are decimal (as disks and networks count), KiB, MiB and GiB binary.
_FACTORS = {"": 1, "b": 1, "byte": 1, "bytes": 1, "k": 10**3, "kb": 10**3, "m": 10**6, "mb": 10**6,
            "g": 10**9, "gb": 10**9, "ki": 2**10, "kib": 2**10, "mi": 2**20, "mib": 2**20, "gi": 2**30,
            "gib": 2**30}


def parse_size(text: str) -> int | None:
    """Bytes in ``20MB``, ``20 mb``, ``1.5GB``, ``512KiB`` or ``1000000``; None when it is not a size of 1 byte or more."""
    match = _SIZE.fullmatch(text.strip())
    if match is None:
        return None
    size = float(match[1]) * _FACTORS[(match[2] or "").lower()]
    return int(size) if math.isfinite(size) and size >= 1 else None


def size_text(size: int) -> str:
    """``20 MB``, ``1.5 GB``, ``512 bytes``: decimal units, as the option accepts them."""
    for unit, factor in (("GB", 10**9), ("MB", 10**6), ("KB", 10**3)):
        if size >= factor:
            return f"{size / factor:.4g} {unit}"
    return f"{size} bytes"
