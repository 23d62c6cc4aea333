"""Provider ids -> provider objects."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ..errors import ConfigError
from .base import Provider
from .echo import EchoProvider
from .replicate import PROVIDER_CLASSES
from .replicate.api import ClientSettings, ModelRef

ACCEPTED_FORMS = (
    "echo, replicate:OWNER/MODEL, replicate:OWNER/MODEL:VERSION (64 hex characters), "
    "replicate:image:OWNER/MODEL[:VERSION], replicate:moderation:OWNER/MODEL[:VERSION], "
    "replicate:embedding:OWNER/MODEL[:VERSION], "
    "replicate:deployment:OWNER/NAME"
)
_NAME = r"[A-Za-z0-9][A-Za-z0-9._-]*"
_REPLICATE_ID = re.compile(rf"^replicate:(?:(?P<kind>[a-z]+):)?(?P<owner>{_NAME})/(?P<name>{_NAME})(?::(?P<version>.*))?$")
_VERSION = re.compile(r"^[0-9a-f]{64}$")


class InvalidProviderId(ConfigError):
    def __init__(self, message: str, hint: str = f"accepted forms: {ACCEPTED_FORMS}") -> None:
        super().__init__(message, hint=hint)


def parse_replicate_id(provider_id: str) -> ModelRef:
    match = _REPLICATE_ID.match(provider_id)
    if not match:
        raise InvalidProviderId(f"malformed Replicate provider id {provider_id!r}")
    kind = match.group("kind") or "text"
    if match.group("kind") and (kind == "text" or kind not in PROVIDER_CLASSES):
        raise InvalidProviderId(f"unknown Replicate provider kind {kind!r} in {provider_id!r}")
    version = match.group("version")
    if version is not None and not _VERSION.match(version):
        raise InvalidProviderId(f"bad model version {version!r} in {provider_id!r}: a version is 64 hex characters")
    if kind == "deployment" and version is not None:
        raise InvalidProviderId(f"{provider_id!r}: deployments have no version")
    return ModelRef(kind, match.group("owner"), match.group("name"), version)


def check_provider_id(provider_id: str) -> None:
    """Raise :class:`InvalidProviderId` when ``provider_id`` names no provider we have."""
    if provider_id == "echo":
        return
    if provider_id.startswith("replicate:"):
        parse_replicate_id(provider_id)
        return
    raise InvalidProviderId(f"unknown provider id {provider_id!r}")


def create_provider(
    provider_id: str,
    *,
    label: str | None = None,
    config: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    defaults: ClientSettings | None = None,
) -> Provider:
    """Build a provider; a bad id or config raises :class:`ConfigError` naming the key."""
    check_provider_id(provider_id)
    if provider_id == "echo":
        return EchoProvider(provider_id, label)
    ref = parse_replicate_id(provider_id)
    return PROVIDER_CLASSES[ref.kind](provider_id, ref, label=label, config=config, env=env, defaults=defaults)
