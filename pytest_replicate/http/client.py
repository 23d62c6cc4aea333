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
from .extensions import API_AUTH, BEFORE_LIVE, CASSETTE, DEADLINE, SENT, when_written
from .limits import DEFAULT_MAX_RESPONSE_SIZE, MAX_RESPONSE_SIZE_INI, MAX_RESPONSE_SIZE_OPTION, size_text


def _network_send() -> Callable[[httpx.HTTPTransport, httpx.Request], httpx.Response]:
    """httpx's own send, also while a user's vcrpy cassette has patched it on the class.

    vcrpy (pytest-recording's ``@pytest.mark.vcr``) wraps the method with ``functools.wraps``;
    unwrapping finds the original, so our calls never land in a user's cassette, whenever
    this module happened to be imported.
    """
    return inspect.unwrap(httpx.HTTPTransport.handle_request)


MAX_RESPONSE_SIZE_HINT = f"raise it with {MAX_RESPONSE_SIZE_OPTION} or the {MAX_RESPONSE_SIZE_INI} ini key"


class ResponseTooLarge(ProviderError):
    """An answer larger than the session's limit: the call fails, and nothing of it is recorded."""


class LiveTransport(httpx.BaseTransport):
    """The last hop before the network; refuses an API request its ``ApiAuth`` refuses (see ``http/auth.py``).

    It also holds the session's circuit breaker: replayed exchanges never get here, so only
    real connection failures count. Every body is read here, counted against
    ``max_response_size`` as it arrives (and by its Content-Length before that), and by its
    ``DEADLINE`` when it has one.
    """

    def __init__(self, breaker: CircuitBreaker | None = None,
                 max_response_size: int = DEFAULT_MAX_RESPONSE_SIZE) -> None:
        self._network: httpx.HTTPTransport | None = None
        self._closed = False
        self._lock = threading.Lock()
        self.breaker = breaker or CircuitBreaker()
        self.max_response_size = max_response_size

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        api = request.extensions.get(API_AUTH)
        refusal = api[0].refusal(request, api[1]) if api else None
        if refusal:
            raise ProviderError(refusal)
        before_live = request.extensions.get(BEFORE_LIVE)
        if before_live is not None:  # may refuse the call (the spend limit), before it costs anything
            before_live()
        network = self._network_transport()
        sent = request.extensions.get(SENT)
        if sent is not None:  # told by httpcore's trace as soon as the whole request is written
            when_written(request, sent)
        self.breaker.before(request.url)
        try:
            response = _network_send()(network, request)
        except CONNECTION_FAILURES as error:
            self.breaker.failed(request.url, error)
            raise
        self.breaker.succeeded(request.url)
        return self._read(request, response)

    def warm_up(self) -> None:
        """Make the network transport now, on a thread of its own, for a run whose calls will go live.

        Making it loads the TLS certificates (tens of milliseconds, mostly outside the interpreter
        lock); done while pytest collects, the first live requests find it ready instead of
        waiting for it. A failure here is left for the first request to meet and report.
        """
        def make() -> None:
            try:
                with self._lock:
                    if self._network is None and not self._closed:
                        self._network = httpx.HTTPTransport(retries=0)
            except Exception:  # the first live request makes it again, and says what is wrong
                pass

        threading.Thread(target=make, name="pytest-replicate-warm-up", daemon=True).start()

    def _network_transport(self) -> httpx.HTTPTransport:
        with self._lock:  # made on first use: a replay-only run never pays for TLS setup
            if self._network is None:
                self._network = httpx.HTTPTransport(retries=0)
            return self._network

    def close(self) -> None:
        with self._lock:  # not while warm_up is still making it
            self._closed = True
            if self._network is not None:
                self._network.close()

    def _read(self, request: httpx.Request, response: httpx.Response) -> httpx.Response:
        """``response`` with its body read: :class:`ResponseTooLarge` past the size limit, ReadTimeout
        once the request's ``DEADLINE`` passes while it still arrives.

        Each read is bounded by the request's read timeout already; the deadline bounds their sum.
        The body is counted as it is decoded (a Content-Length may be absent, and a small gzipped
        answer may unpack to gigabytes), so the limit bounds what is held in memory; the answer
        handed on is the decoded body, without the headers that described the encoded one.
        """
        deadline = request.extensions.get(DEADLINE)
        limit = self.max_response_size
        chunks: list[bytes] = []
        size = 0
        try:
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > limit:
                raise self._too_large(request, f"it declares {size_text(int(declared))}")
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > limit:
                    raise self._too_large(request, f"more than {size_text(limit)} had arrived when it was cut off")
                chunks.append(chunk)
                if deadline is not None and time.monotonic() > deadline:
                    raise httpx.ReadTimeout("the response was still arriving at the deadline", request=request)
        finally:
            response.close()
        headers = [(name, value) for name, value in response.headers.multi_items()
                   if name.lower() not in ("content-encoding", "content-length", "transfer-encoding")]
        return httpx.Response(response.status_code, headers=headers, content=b"".join(chunks),
                              extensions=response.extensions, request=request)

    def _too_large(self, request: httpx.Request, how: str) -> ResponseTooLarge:
        return ResponseTooLarge(
            f"the answer to {request.method} {request.url.copy_with(query=None)} is larger than the "
            f"{size_text(self.max_response_size)} limit ({how}); nothing of it was recorded. If the model's "
            f"output is meant to be that large, {MAX_RESPONSE_SIZE_HINT}")


def make_client(max_response_size: int = DEFAULT_MAX_RESPONSE_SIZE, *, live: bool = False) -> httpx.Client:
    """The session's client; ``live``: its calls will go to the network (see :meth:`LiveTransport.warm_up`)."""
    network = LiveTransport(max_response_size=max_response_size)
    if live:
        network.warm_up()
    return httpx.Client(
        transport=CassetteTransport(network),
        follow_redirects=True,
        timeout=httpx.Timeout(30.0, connect=5.0),
        headers={"User-Agent": "pytest-replicate"},
    )


class _Once:
    """A callable that calls ``told`` the first time only (from any thread)."""

    def __init__(self, told: Callable[[], None]) -> None:
        self._told: Callable[[], None] | None = told
        self._lock = threading.Lock()

    def __call__(self) -> None:
        with self._lock:
            told, self._told = self._told, None
        if told is not None:
            told()


class CallClient:
    """The session client as one test sees it: every request carries the test's cassette, and
    ``on_request`` (if given) is told once each one is out (see ``SENT``); ``before_live`` (if
    given) runs before one goes to the network, and may refuse it by raising."""

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
        if self.on_request is None:
            return self._client.request(method, url, extensions=extensions, **kwargs)
        sent = extensions[SENT] = _Once(self.on_request)
        try:
            return self._client.request(method, url, extensions=extensions, **kwargs)
        finally:
            sent()  # a replayed or refused request, or a live one that failed before it was out

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)
