"""Which provider grades a model-graded assertion: one case's or test function's graders.

Assertions ask ``ctx.grader(purpose, override)`` and never name a provider class; this
module finds the id, config and default for that purpose and gets the provider from the
session's cache (so graders share the pooled client and secret scrubbing).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from ..errors import ConfigError
from ..providers import Provider
from ..providers.purposes import GRADER_KINDS, grader_id_form, grader_purpose
from .settings import DEFAULT_GRADERS, DEFAULT_TEXT_GRADER


class ProviderCache(Protocol):
    """The session's ``provider``: one shared object per distinct id, label, config and env."""

    def __call__(self, provider_id: str, *, label: str | None = None, config: Mapping[str, Any] | None = None,
                 env: Mapping[str, str] | None = None) -> Provider: ...


class SessionGraders:
    """Graders for one case or test function, first found wins (promptfoo's order, then ours):

    the assertion's ``provider``, the test's ``options.provider`` (defaultTest's when the
    test has none), ``--replicate-grader`` / ini ``replicate_grader`` (text grading only),
    then the default for the purpose. Each may be an id, ``{id, config}``, or a map by
    purpose such as ``{text: ..., embedding: ...}``. An id of the wrong kind (a chat model
    where an embedding model is needed) is skipped, except on the assertion itself, where
    it is an error as in promptfoo. ``env`` is the eval file's ``env`` (or a test's
    overrides); ``file`` is named in configuration errors.
    """

    def __init__(self, providers: ProviderCache, *, text_grader: str | None = None,
                 env: Mapping[str, str] | None = None, file: Path | None = None,
                 options: Mapping[str, Any] | None = None) -> None:
        self.providers = providers
        self.text_grader = text_grader  # --replicate-grader
        self.env = dict(env or {})
        self.file = file
        self.options = options or {}

    def grader(self, purpose: str, override: Any = None) -> Provider:
        if override is not None:
            spec = grader_spec(override, purpose)
            if spec is None:
                raise ConfigError(f"the assertion's provider {_describe(override)} cannot do {purpose} grading",
                                  file=self.file, hint=_PURPOSE_HINTS.get(purpose))
        else:
            option = self.options.get("provider")
            overlay = option if _settings_only(option) else None  # {config: ...}: the grader we would use, so set
            levels = (None if overlay is not None else option,
                      self.text_grader if purpose == "text" else None,
                      DEFAULT_GRADERS.get(purpose))
            spec = next((found for level in levels if level is not None
                         if (found := grader_spec(level, purpose)) is not None), None)
            if spec is not None and overlay is not None:
                spec = {**spec, **{key: value for key, value in overlay.items() if key != "config"},
                        "config": {**(spec.get("config") or {}), **(overlay.get("config") or {})}}
        if spec is None:
            raise ConfigError(f"no {purpose} grader is configured", file=self.file,
                              hint="give the assertion a provider")
        try:
            return self.providers(spec["id"], label=spec.get("label"), config=spec.get("config"), env=self.env)
        except ConfigError as error:  # a bad grader config, e.g. a non-numeric temperature
            raise ConfigError(f"assertion provider {spec['id']}: {error.message}", file=self.file,
                              hint=error.hint) from None


def _hint(purpose: str) -> str:
    form = grader_id_form(purpose)
    if form is None:
        return f"use a language model id such as {DEFAULT_TEXT_GRADER}"
    return f"use a {form} id, or a map such as {{text: ..., {purpose}: ...}}"


_PURPOSE_HINTS = {purpose: _hint(purpose) for purpose in GRADER_KINDS}


def grader_spec(value: Any, purpose: str) -> dict[str, Any] | None:
    """``{id, config, label}`` for ``purpose`` from an id, ``{id, config}`` or purpose map; None if it has none."""
    if isinstance(value, str):
        value = {"id": value}
    if not isinstance(value, dict):
        return None
    if "id" not in value:  # {text: ..., embedding: ...}
        return grader_spec(value[purpose], purpose) if value.get(purpose) is not None else None
    return value if isinstance(value["id"], str) and grader_purpose(value["id"]) == purpose else None


def _settings_only(value: Any) -> bool:
    """An ``options.provider`` with neither an id nor a purpose (``{config: {temperature: 0}}``): settings
    for whichever grader the purpose would use."""
    return isinstance(value, dict) and "id" not in value and not value.keys() & set(GRADER_KINDS)


def _describe(value: Any) -> str:
    return repr(value if isinstance(value, str) else value.get("id", value) if isinstance(value, dict) else value)
