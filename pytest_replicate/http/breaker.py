"""A circuit breaker per server, so a run against a server that is down fails fast.

Without it every item would spend its full retry budget (seconds each) rediscovering that
nothing answers. After ``threshold`` connection failures in a row to one origin, calls to
it fail at once with one clear message for ``cooldown`` seconds; then one call may try
again, and any answer closes the breaker.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import httpx

from ..errors import ProviderError
from .auth import origin

# Failures that prove nothing reached the server: nothing listens, or no connection opened.
CONNECTION_FAILURES = (httpx.ConnectError, httpx.ConnectTimeout)


class ServerUnreachable(ProviderError):
    """Raised instead of trying a server the breaker considers down."""


@dataclass
class _State:
    failures: int = 0
    opened_at: float | None = None
    last_error: str = ""


class CircuitBreaker:
    def __init__(self, threshold: int = 3, cooldown: float = 30.0) -> None:
        self.threshold = threshold
        self.cooldown = cooldown
        self._lock = threading.Lock()
        self._states: dict[str, _State] = {}

    def before(self, url: httpx.URL) -> None:
        """Raise :class:`ServerUnreachable` while the breaker for ``url``'s origin is open."""
        where = origin(url)
        with self._lock:
            state = self._states.get(where)
            if state is None or state.opened_at is None:
                return
            if time.monotonic() - state.opened_at >= self.cooldown:
                state.opened_at = None  # half open: let this call try; one more failure reopens it
                state.failures = self.threshold - 1
                return
            failures, last = state.failures, state.last_error
        raise ServerUnreachable(
            f"{where} is unreachable: the last {failures} connection attempts failed ({last}); "
            f"not trying it again for {self.cooldown:g}s. Is the server up and the base URL right?"
        )

    def failed(self, url: httpx.URL, error: Exception) -> None:
        with self._lock:
            state = self._states.setdefault(origin(url), _State())
            state.failures += 1
            state.last_error = type(error).__name__
            if state.failures >= self.threshold and state.opened_at is None:
                state.opened_at = time.monotonic()

    def succeeded(self, url: httpx.URL) -> None:
        with self._lock:
            self._states.pop(origin(url), None)
