"""PNG files that the simulated image models return: small, valid and deterministic."""

from __future__ import annotations

import hashlib
import struct
import zlib
from functools import lru_cache
from typing import Any

from .catalogue import ModelSpec


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


@lru_cache(maxsize=32)
def render_png(width: int, height: int, key: str) -> bytes:
    """A valid RGB PNG, a vertical gradient between two colours derived from ``key``.

    Each row is one colour, so it compresses to a few kilobytes even at 2048x2048.
    """
    digest = hashlib.sha256(key.encode()).digest()
    top, bottom = digest[0:3], digest[3:6]
    rows = []
    for y in range(height):
        f = y / (height - 1) if height > 1 else 0.0
        colour = bytes(round(a + (b - a) * f) for a, b in zip(top, bottom, strict=True))
        rows.append(b"\x00" + colour * width)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header)
            + _chunk(b"IDAT", zlib.compress(b"".join(rows), 6)) + _chunk(b"IEND", b""))


def image_key(inp: dict[str, Any], index: int) -> str:
    """What an image depends on: prompt, seed and its position in the outputs."""
    return f"{inp.get('prompt', '')}\x00{inp.get('seed', '')}\x00{index}"


def image_size(spec: ModelSpec, inp: dict[str, Any]) -> tuple[int, int]:
    """(width, height) of the images an effective input asks for.

    Models with ``aspect_ratio`` (FLUX) size images from it and ``megapixels``; others
    (SDXL) from ``width`` and ``height``.
    """
    if "aspect_ratio" in spec.inputs:
        across, down = (int(part) for part in str(inp.get("aspect_ratio", "1:1")).split(":"))
        pixels = float(inp.get("megapixels", "1")) * 1024 * 1024
        width = round((pixels * across / down) ** 0.5 / 16) * 16
        return width, round(width * down / across / 16) * 16
    return int(inp.get("width", 1024)), int(inp.get("height", 1024))
