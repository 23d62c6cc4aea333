"""Provider ids -> provider objects."""

from __future__ import annotations

from typing import Any, Mapping

from .base import Provider
from .echo import EchoProvider


class InvalidProviderId(ValueError):
    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.hint = hint


ACCEPTED_FORMS = "echo"


def check_provider_id(provider_id: str) -> None:
    """Raise :class:`InvalidProviderId` when ``provider_id`` names no provider we have."""
    if provider_id == "echo":
        return
    raise InvalidProviderId(f"unknown provider id {provider_id!r}", f"accepted forms: {ACCEPTED_FORMS}")


def create_provider(provider_id: str, *, label: str | None = None, config: Mapping[str, Any] | None = None,
                    env: Mapping[str, str] | None = None) -> Provider:
    check_provider_id(provider_id)
    return EchoProvider(provider_id, label)
