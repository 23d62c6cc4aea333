"""The session's HTTP stack: one pooled httpx client; cassettes in front of the network."""

from __future__ import annotations

import inspect
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx

from ..cassettes.cassette import Cassette, CassetteTransport
from ..errors import ProviderError
from .breaker import CONNECTION_FAILURES, CircuitBreaker
from .extensions import BEFORE_LIVE, CASSETTE, DEADLINE, MISSING_CREDENTIALS


def _network_send() -> Callable[[httpx.HTTPTransport, httpx.Request], httpx.Response]:
    """httpx's own send, also while a user's vcrpy cassette has patched it on the class.

    vcrpy (pytest-recording's ``@pytest.mark.vcr``) wraps the method with ``functools.wraps``;
    unwrapping finds the original, so our calls never land in a user's cassette, whenever
    this module happened to be imported.
    """
    return inspect.unwrap(httpx.HTTPTransport.handle_request)


class LiveTransport(httpx.BaseTransport):
    """The last hop before the network; refuses a call that needs credentials it lacks.

    It also holds the session's circuit breaker: replayed exchanges never get here, so only
    real connection failures count. A request with a ``DEADLINE`` has its body read here, by then.
    """

    def __init__(self, breaker: CircuitBreaker | None = None) -> None:
        self._network: httpx.HTTPTransport | None = None
        self._lock = threading.Lock()
        self.breaker = breaker or CircuitBreaker()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        missing = request.extensions.get(MISSING_CREDENTIALS)
        if missing and "authorization" not in request.headers:
            raise ProviderError(missing)
        before_live = request.extensions.get(BEFORE_LIVE)
        if before_live is not None:  # may refuse the call (the spend limit), before it costs anything
            before_live()
        with self._lock:  # created on first use: a replay-only run never pays for TLS setup
            if self._network is None:
                self._network = httpx.HTTPTransport(retries=0)
        self.breaker.before(request.url)
        try:
            response = _network_send()(self._network, request)
        except CONNECTION_FAILURES as error:
            self.breaker.failed(request.url, error)
            raise
        self.breaker.succeeded(request.url)
        deadline = request.extensions.get(DEADLINE)
        return response if deadline is None else _read_by(request, response, deadline)

    def close(self) -> None:
        if self._network is not None:
            self._network.close()


def _read_by(request: httpx.Request, response: httpx.Response, deadline: float) -> httpx.Response:
    """``response`` with its body read, or ReadTimeout once ``deadline`` passes while it still arrives.

    Each read is bounded by the request's read timeout already; this bounds their sum.
    """
    chunks: list[bytes] = []
    try:
        for chunk in response.iter_raw():
            chunks.append(chunk)
            if time.monotonic() > deadline:
                raise httpx.ReadTimeout("the response was still arriving at the deadline", request=request)
    finally:
        response.close()
    return httpx.Response(response.status_code, headers=response.headers, content=b"".join(chunks),
                          extensions=response.extensions, request=request)


def make_client() -> httpx.Client:
    return httpx.Client(
        transport=CassetteTransport(LiveTransport()),
        follow_redirects=True,
        timeout=httpx.Timeout(30.0, connect=5.0),
        headers={"User-Agent": "pytest-replicate"},
    )


class CallClient:
    """The session client as one test sees it: every request carries the test's cassette, and
    ``on_request`` (if given) is told before each one goes out; ``before_live`` (if given) runs
    before one goes to the network, and may refuse it by raising."""

    def __init__(self, client: httpx.Client, cassette: Cassette | None,
                 on_request: Callable[[], None] | None = None, before_live: Callable[[], None] | None = None) -> None:
        self._client = client
        self.cassette = cassette
        self.on_request = on_request
        self.before_live = before_live

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        extensions = dict(kwargs.pop("extensions", None) or {})
        if self.cassette is not None:
            extensions[CASSETTE] = self.cassette
        if self.before_live is not None:
            extensions[BEFORE_LIVE] = self.before_live
        if self.on_request is not None:
            self.on_request()
        return self._client.request(method, url, extensions=extensions, **kwargs)

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)
