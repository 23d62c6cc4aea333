"""Secrets the session knows, and the one place that hides them.

Cassettes use it before anything is written; reports and error messages use it before
anything is shown. A secret is any token the session has seen (environment or config).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, MutableMapping
from typing import Any

PLACEHOLDER = "<REDACTED>"
# A Replicate API token: ``r8_`` and some 37 letters and digits. Text shaped like one is hidden
# even when the session never saw it (say, a token a server echoes back in an error detail).
TOKEN_SHAPE = re.compile(r"\br8_[A-Za-z0-9_-]{16,}")


class Secret(str):
    """A token that still works as a ``str`` for sending, but never shows itself.

    pytest prints function arguments and locals (``-l``, ``--full-trace``, ``--tb=long``)
    with ``repr``; messages use ``str`` and f-strings. All three show a placeholder here, so
    a token kept as a ``Secret`` cannot reach a terminal, a JUnit file or a report by
    accident. ``reveal()`` is the one, explicit, way to get the text (the HTTP auth does).
    Being a ``str`` keeps dict keys, ``json.dumps`` and equality working where configs
    are compared, so a secret can be wrapped in place inside a user's config.
    """

    __slots__ = ()

    def reveal(self) -> str:
        return str.__str__(self)

    def __repr__(self) -> str:
        return f"Secret({PLACEHOLDER!r})"

    def __str__(self) -> str:
        return PLACEHOLDER

    def __format__(self, spec: str) -> str:
        return PLACEHOLDER


def secret(value: str | None) -> Secret | None:
    """``value`` as a :class:`Secret` (None and "" stay None)."""
    if not value:
        return None
    return value if isinstance(value, Secret) else Secret(value)


def protect(mapping: MutableMapping[str, Any], keys: Iterable[str]) -> None:
    """Wrap the string values of ``keys`` in ``mapping`` as :class:`Secret`, in place.

    Used where a token first arrives (a provider's config, the environment), so that the
    objects pytest may print later (a case's config, the env a function was given) hide it.
    """
    for key in keys:
        value = mapping.get(key)
        if isinstance(value, str) and value and not isinstance(value, Secret):
            mapping[key] = Secret(value)


def _replace_known(text: str, secrets: Iterable[str | None]) -> str:
    # Longest first, so a secret containing another is hidden whole.
    for value in sorted((str.__str__(s) for s in secrets if s), key=len, reverse=True):
        text = text.replace(value, PLACEHOLDER)
    return text


def hide_tokens(text: str, secrets: Iterable[str | None] = ()) -> str:
    """``text`` with the given secrets, and anything shaped like a Replicate token, hidden."""
    return TOKEN_SHAPE.sub(PLACEHOLDER, _replace_known(text, secrets))


def scrub(value: Any, secrets: Iterable[str | None]) -> Any:
    """``value`` (plain data) with the given secrets replaced; unlike :func:`hide_tokens`, text
    that merely looks like a token stays (it is a user's prompt, and may be a test's canary)."""
    if isinstance(value, str):
        return _replace_known(value, secrets)
    if isinstance(value, dict):
        return {key: scrub(item, secrets) for key, item in value.items()}
    if isinstance(value, list):
        return [scrub(item, secrets) for item in value]
    return value


class RedactedRepr:
    """A dataclass whose repr hides its ``redactor``'s secrets (and text shaped like a token).

    pytest prints results with ``repr``: assertion rewriting (``assert result.passed``) and ``-l``
    show a test's locals, and a result's prompt and vars may hold a token read from the
    environment. Declare the dataclass with ``repr=False`` so this repr is the one it keeps.
    """

    redactor: Redactor | None

    def __repr__(self) -> str:
        from dataclasses import fields  # only when printed

        shown = ", ".join(f"{item.name}={getattr(self, item.name)!r}" for item in fields(self)  # type: ignore[arg-type]
                          if item.repr)
        secrets = self.redactor.secrets if self.redactor is not None else ()
        return hide_tokens(f"{type(self).__name__}({shown})", secrets)


class Redactor:
    """A growing set of secret strings; thread-safe, since providers are built from any thread."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        self._lock = threading.Lock()
        self._secrets: frozenset[str] = frozenset(str.__str__(value) for value in secrets if value)

    def add(self, value: str | None) -> None:
        if value:
            with self._lock:
                self._secrets = self._secrets | {str.__str__(value)}

    @property
    def secrets(self) -> frozenset[str]:
        return self._secrets

    def redact(self, text: str) -> str:
        return hide_tokens(text, self._secrets)

    def redact_data(self, value: Any) -> Any:
        """``redact`` applied to every string inside plain data (dicts, lists)."""
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, bytes):
            return self.redact(value.decode("utf-8", "replace")).encode() if self._in_bytes(value) else value
        if isinstance(value, list):
            return [self.redact_data(item) for item in value]
        if isinstance(value, tuple):
            return tuple(self.redact_data(item) for item in value)
        if isinstance(value, dict):
            return {key: self.redact_data(item) for key, item in value.items()}
        return value

    def _in_bytes(self, data: bytes) -> bool:
        return any(value.encode() in data for value in self._secrets) or TOKEN_SHAPE.search(
            data.decode("utf-8", "replace")) is not None

    def hide_in_interaction(self, request: Any, response: Any) -> Any:
        """vcrpy's ``before_save_interaction`` hook, with the secrets known when the cassette is saved.

        vcrpy's own sensitive-data filter does the replacing; only hiding is used, since
        restoring is ambiguous when several secrets share the placeholder.
        """
        from vcr.filters import sensitive_data_hooks  # called by vcrpy, so vcrpy is loaded

        hide, _restore = sensitive_data_hooks([(PLACEHOLDER, value) for value in sorted(self._secrets)])
        return hide(request, response)
