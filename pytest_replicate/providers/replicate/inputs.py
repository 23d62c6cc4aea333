"""Per-test model inputs taken from a test's vars (an image for a vision model, say).

promptfoo keeps vars for templates; a Replicate model often needs some of them as inputs of
their own. ``input_vars`` in the provider config names them: a list (``[image]``: the var
``image`` becomes the input ``image``) or a mapping from input name to var name. Following
promptfoo, an image var given as ``file://cat.png`` arrives as a ``data:`` URI. Replicate takes
files as URLs or ``data:`` URIs, so base64 images and raw bytes are sent as ``data:`` URIs,
and URLs and ``data:`` URIs pass unchanged. Audio and video files arrive as plain base64 (as
in promptfoo), which is sent as it is: give those as URLs.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

from ...errors import ConfigError, ProviderError
from ...images import sniff_image

URL_PREFIXES = ("http://", "https://", "data:")


def parse_input_vars(value: Any) -> dict[str, str]:
    """``input_vars`` as {input name: var name}; a malformed value is a config error."""
    if value is None:
        return {}
    if isinstance(value, list) and all(isinstance(name, str) and name for name in value):
        return {name: name for name in value}
    if isinstance(value, Mapping) and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        return dict(value)
    raise ConfigError(f"config.input_vars must be a list of var names or a mapping of input name to var name, "
                      f"got {value!r}", path=("config", "input_vars"))


def inputs_from_vars(mapping: Mapping[str, str], variables: Mapping[str, Any], model: str) -> dict[str, Any]:
    inputs = {}
    for input_name, var_name in mapping.items():
        if var_name not in variables:
            raise ProviderError(f"input_vars sends var {var_name!r} to {model} as {input_name!r}, "
                                "but this test has no such var")
        inputs[input_name] = as_input(variables[var_name])
    return inputs


def as_input(value: Any) -> Any:
    """A var's value as Replicate takes it: files as ``data:`` URIs, everything else unchanged."""
    if isinstance(value, bytes):
        return _data_uri(value)
    if isinstance(value, str) and not value.startswith(URL_PREFIXES) and len(value) >= 16:
        try:
            data = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            return value
        if sniff_image(data) is not None:
            return _data_uri(data)
    return value


def _data_uri(data: bytes) -> str:
    info = sniff_image(data)
    media_type = info.media_type if info else "application/octet-stream"
    return f"data:{media_type};base64,{base64.b64encode(data).decode()}"
