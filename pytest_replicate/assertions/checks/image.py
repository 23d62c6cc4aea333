"""``is-image``: the provider produced a real image, optionally of a given size and format."""

from __future__ import annotations

from typing import Any

from ...images import sniff_image
from ..base import AssertionContext, Verdict
from ..declare import assertion
from ..spec import AssertionSpec

_KEYS = {"width", "height", "format"}
_FORMAT_ALIASES = {"jpg": "jpeg"}


_FORMATS = {"png", "jpeg", "jpg", "gif", "webp"}


def _valid(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, dict) or not set(value) <= _KEYS:
        return "value must be a mapping with any of width, height, format (or omitted)"
    for key in ("width", "height"):
        if key in value and not (isinstance(value[key], int) and not isinstance(value[key], bool) and value[key] > 0):
            return f"{key} must be a positive whole number of pixels, got {value[key]!r}"
    if "format" in value and str(value["format"]).lower() not in _FORMATS:
        return f"format must be one of {', '.join(sorted(_FORMATS))}, got {value['format']!r}"
    return None


@assertion("is-image", needs_value=False, validate_value=_valid)
def check_is_image(output: Any, value: Any, spec: AssertionSpec, ctx: AssertionContext) -> Verdict:
    image = ctx.response.image if ctx.response is not None else None
    if image is None:
        return Verdict(False, "the provider returned no image")
    info = sniff_image(image.data)
    if info is None:
        return Verdict(False, f"the output file is not a PNG, JPEG, GIF or WebP image ({len(image.data)} bytes, {image.media_type})")
    found = f"a {info.width}x{info.height} {info.format.upper()} image"
    expected = value or {}
    problems = []
    for key in ("width", "height"):
        if key in expected and int(expected[key]) != getattr(info, key):
            problems.append(f"{key} {getattr(info, key)} != {expected[key]}")
    if "format" in expected:
        wanted = str(expected["format"]).lower()
        if _FORMAT_ALIASES.get(wanted, wanted) != info.format:
            problems.append(f"format {info.format} != {wanted}")
    if problems:
        return Verdict(False, f"output is {found}: " + ", ".join(problems))
    return Verdict(True, f"output is {found}")
