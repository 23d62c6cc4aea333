"""Secrets the session knows, and the one place that hides them.

Cassettes use it before anything is written; reports and error messages use it before
anything is shown. A secret is any token the session has seen (environment or config).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

PLACEHOLDER = "<REDACTED>"


class Redactor:
    """A growing set of secret strings; thread-safe, since providers are built from any thread."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        self._lock = threading.Lock()
        self._secrets: frozenset[str] = frozenset(secret for secret in secrets if secret)

    def add(self, secret: str | None) -> None:
        if secret:
            with self._lock:
                self._secrets = self._secrets | {secret}

    @property
    def secrets(self) -> frozenset[str]:
        return self._secrets

    def redact(self, text: str) -> str:
        # Longest first, so a secret containing another is hidden whole.
        for secret in sorted(self._secrets, key=len, reverse=True):
            text = text.replace(secret, PLACEHOLDER)
        return text

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
        return any(secret.encode() in data for secret in self._secrets)

    def hide_in_interaction(self, request: Any, response: Any) -> Any:
        """vcrpy's ``before_save_interaction`` hook, with the secrets known when the cassette is saved.

        vcrpy's own sensitive-data filter does the replacing; only hiding is used, since
        restoring is ambiguous when several secrets share the placeholder.
        """
        from vcr.filters import sensitive_data_hooks  # vcrpy is imported lazily (see plugin.py)

        hide, _restore = sensitive_data_hooks([(PLACEHOLDER, secret) for secret in sorted(self._secrets)])
        return hide(request, response)
