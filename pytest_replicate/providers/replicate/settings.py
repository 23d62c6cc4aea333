"""What a Replicate provider's config may hold, and the checks that run before any call.

Keys are of three kinds: settings of the client (never sent), the seed document's model
parameters (typed, with ``REPLICATE_*`` environment fallbacks), and anything else, which
passes through to the model input. Because the last kind is open, a typo or a token under
the wrong name would silently become model input (and be saved in a cassette): the checks
here refuse keys that look like secrets or like a misspelt known key.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

import httpx

from ...errors import ConfigError
from ...redaction import TOKEN_SHAPE, Secret, secret
from .pricing import PRICE_KEYS

# Where a token may come from, in the order they are read (promptfoo reads apiKey, then
# REPLICATE_API_KEY, then REPLICATE_API_TOKEN). Every message about tokens names these.
TOKEN_VARIABLES = ("REPLICATE_API_KEY", "REPLICATE_API_TOKEN")
TOKEN_SOURCES = "REPLICATE_API_TOKEN (or REPLICATE_API_KEY, or apiKey in the provider config)"

# Sampling parameters with their REPLICATE_* environment fallback and type (seed document).
ENV_PARAMETERS: dict[str, type] = {
    "max_length": int,
    "temperature": float,
    "repetition_penalty": float,
    "top_p": float,
    "top_k": int,
    "seed": int,
    "stop_sequences": str,
    "system_prompt": str,
}
TYPED_PARAMETERS: dict[str, type] = {**ENV_PARAMETERS, "max_new_tokens": int}
IMAGE_PARAMETERS = ("width", "height", "num_inference_steps", "refine", "apply_watermark", "num_outputs")
# Inputs of popular Replicate models that sit close to a known key (max_tokens ~ max_new_tokens):
# they are real parameters, not typos, so the misspelling check lets them through.
COMMON_INPUTS = frozenset({
    "max_tokens", "min_tokens", "min_new_tokens", "min_length", "prompt_template", "presence_penalty",
    "frequency_penalty", "length_penalty", "negative_prompt", "guidance_scale", "scheduler",
    "lora_scale", "image", "mask", "aspect_ratio", "output_format", "output_quality",
    "disable_safety_checker", "go_fast", "megapixels", "num_outputs", "top_k_mode", "prompt_strength",
    "high_noise_frac", "refine_steps", "strength", "debug", "messages", "image_input",
})


@dataclass(frozen=True)
class ClientSettings:
    """How the client talks to Replicate; each field is also a provider config key."""

    base_url: str = "https://api.replicate.com"
    wait: int = 60  # Prefer: wait=N on create; 0 disables it
    timeout: float = 300.0  # seconds for the whole call (create, polls, downloads), then canceled
    poll_interval: float = 0.5  # first poll delay, growing 1.5x up to poll_interval_max
    poll_interval_max: float = 5.0
    max_retries: int = 3
    retry_backoff: float = 1.0  # base of the exponential back-off
    retry_backoff_max: float = 30.0
    cancel_after: float | None = None  # Cancel-After sent on create; None: the time left in `timeout`


# key -> (type, lowest, highest, whether the lowest is excluded, words for the message)
_RANGES: dict[str, tuple[type, float, float, bool, str]] = {
    "wait": (int, 0, 60, False, "a whole number of seconds from 0 (no Prefer: wait) to 60"),
    "timeout": (float, 0, math.inf, True, "a number of seconds greater than 0"),
    "poll_interval": (float, 0, 300, True, "a number of seconds greater than 0 and at most 300"),
    "poll_interval_max": (float, 0, 300, True, "a number of seconds greater than 0 and at most 300"),
    "max_retries": (int, 0, 100, False, "a whole number from 0 to 100"),
    "retry_backoff": (float, 0, 300, False, "a number of seconds from 0 to 300"),
    "retry_backoff_max": (float, 0, 3600, False, "a number of seconds from 0 to 3600"),
    "cancel_after": (float, 5, 86400, False, "a number of seconds from 5 to 86400 (24 hours)"),
}
# Keys that configure the provider itself; they never reach the model input.
SETTING_KEYS = frozenset({"apiKey", "prompt", "input_vars", *PRICE_KEYS, *(field.name for field in fields(ClientSettings))})
# Replicate request options that are not model inputs and that this client does not use.
UNSUPPORTED_SETTINGS = {
    "webhook": "webhooks would make Replicate call out to a URL; this client polls instead",
    "webhook_events_filter": "webhooks are not used; this client polls instead",
    "stream": "outputs are read when the prediction ends; streaming is not used",
}
# Words of names a token is often given under by mistake (``api_key``, ``REPLICATE_API_TOKEN``);
# whole words, so ``max_tokens`` is not one.
_SECRET_WORDS = frozenset({"token", "secret", "password", "passwd", "authorization", "auth", "bearer",
                           "credential", "credentials"})


def looks_secret(key: str) -> bool:
    words = re.split(r"[_\-\s.]+|(?<=[a-z0-9])(?=[A-Z])", key)
    lowered = [word.lower() for word in words if word]
    return bool(_SECRET_WORDS.intersection(lowered)) or "apikey" in "".join(lowered)


def coerce(value: Any, kind: type, source: str) -> Any:
    """Parse a parameter to its type; a bad value is a config error naming its source."""
    if kind is str:
        # Replicate takes stop sequences as one comma-separated string.
        return ",".join(str(item) for item in value) if isinstance(value, list) else str(value)
    if isinstance(value, bool):
        raise ConfigError(f"{source} must be a {kind.__name__}, got {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{source} must be a {'number' if kind is float else 'whole number'}, got {value!r}") from None
    if kind is int:
        if not number.is_integer():
            raise ConfigError(f"{source} must be a whole number, got {value!r}")
        return int(number)
    return number


def resolve_token(config: Mapping[str, Any], env: Mapping[str, str]) -> Secret | None:
    return secret(config.get("apiKey") or next((env[name] for name in TOKEN_VARIABLES if env.get(name)), None))


def client_settings(config: Mapping[str, Any], env: Mapping[str, str], defaults: ClientSettings) -> ClientSettings:
    """The client settings from config, else ``REPLICATE_BASE_URL``, else ``defaults``; each range-checked."""
    overrides: dict[str, Any] = {}
    for name, (kind, low, high, open_low, words) in _RANGES.items():
        if name not in config or (name == "cancel_after" and config[name] is None):
            continue
        value = coerce(config[name], kind, f"config.{name}")
        if not (low < value if open_low else low <= value) or value > high or not math.isfinite(value):
            raise ConfigError(f"config.{name} must be {words}, got {config[name]!r}", path=("config", name))
        overrides[name] = value
    if "base_url" in config:
        overrides["base_url"] = str(config["base_url"])
    elif env.get("REPLICATE_BASE_URL"):
        overrides["base_url"] = env["REPLICATE_BASE_URL"]
    settings = replace(defaults, **overrides)
    check_base_url(settings.base_url, "config.base_url" if "base_url" in config else "REPLICATE_BASE_URL")
    return settings


def check_base_url(url: str, source: str) -> None:
    """An http(s) URL with a host; anything else fails in httpx with a far less useful message."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError):
        parsed = None
    if parsed is None or parsed.scheme not in ("http", "https") or not parsed.host:
        raise ConfigError(f"{source} must be an http(s) URL such as https://api.replicate.com, got {url!r}",
                          path=("config", "base_url") if source.startswith("config.") else ())


def check_keys(config: Mapping[str, Any], known: frozenset[str], tokens: list[Secret]) -> None:
    """Refuse keys that would leak a secret to the model, or that are near-misses of known keys.

    Unknown keys are model inputs and go to Replicate (and the cassette) as they are, so a
    token under ``api_key`` or a ``temprature`` would be sent silently; both stop here.
    """
    for key, value in config.items():
        if key in known or key in SETTING_KEYS:
            continue
        where = ("config", key)
        if key in UNSUPPORTED_SETTINGS:
            raise ConfigError(f"config.{key} is not supported: {UNSUPPORTED_SETTINGS[key]}", path=where)
        if looks_secret(key) or _holds_token(value, tokens):
            raise ConfigError(
                f"config.{key} looks like a secret; it would be sent to the model as input and saved "
                f"in the cassette. Did you mean `apiKey`? Better: set REPLICATE_API_TOKEN in the environment",
                path=where)
        if key in COMMON_INPUTS:
            continue
        near = _closest(key, known | SETTING_KEYS)
        if near is not None:
            raise ConfigError(
                f"config.{key} is not a setting or a parameter we know: did you mean `{near}`? "
                "(unknown keys are sent to the model as input)", path=where,
                hint="to send it to the model anyway, give it under its exact input name from the model's API page")


def _normalise(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _closest(key: str, known: frozenset[str]) -> str | None:
    by_normal = {_normalise(name): name for name in known}
    if _normalise(key) in by_normal:  # api_key -> apiKey, Max-Length -> max_length
        return by_normal[_normalise(key)]
    match = difflib.get_close_matches(_normalise(key), list(by_normal), n=1, cutoff=0.85)
    return by_normal[match[0]] if match else None


def _holds_token(value: Any, tokens: list[Secret]) -> bool:
    if isinstance(value, str):
        return bool(TOKEN_SHAPE.search(value)) or any(token.reveal() in value for token in tokens)
    if isinstance(value, Mapping):
        return any(_holds_token(item, tokens) for item in value.values())
    if isinstance(value, (list, tuple)):
        return any(_holds_token(item, tokens) for item in value)
    return False
