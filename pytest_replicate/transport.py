"""The session's HTTP stack: one pooled httpx client; cassettes in front of the network."""

from __future__ import annotations

import threading
from typing import Any

import httpx

from .cassettes import CASSETTE, CassetteTransport, ItemCassette
from .errors import ProviderError
from .providers.replicate_api import NEEDS_TOKEN

MISSING_TOKEN = (
    "no Replicate API token to call {model}: set REPLICATE_API_TOKEN (or REPLICATE_API_KEY, or "
    "apiKey in the provider config) to record this item; once recorded, --record-mode=none replays "
    "it without a token"
)
# vcrpy patches this method on the class while a user's cassette is active. Calling the
# method captured at import keeps our calls out of a user's cassette in the same session.
_send = httpx.HTTPTransport.handle_request


class LiveTransport(httpx.BaseTransport):
    """The last hop before the network; refuses an API call that has no token to send."""

    def __init__(self) -> None:
        self._network: httpx.HTTPTransport | None = None
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        model = request.extensions.get(NEEDS_TOKEN)
        if model and "authorization" not in request.headers:
            raise ProviderError(MISSING_TOKEN.format(model=model))
        with self._lock:  # created on first use: a replay-only run never pays for TLS setup
            if self._network is None:
                self._network = httpx.HTTPTransport(retries=0)
        return _send(self._network, request)

    def close(self) -> None:
        if self._network is not None:
            self._network.close()


def make_client() -> httpx.Client:
    return httpx.Client(
        transport=CassetteTransport(LiveTransport()),
        follow_redirects=True,
        timeout=httpx.Timeout(30.0, connect=5.0),
        headers={"User-Agent": "pytest-replicate"},
    )


class ItemClient:
    """The session client seen by one item: every request carries the item's cassette."""

    def __init__(self, client: httpx.Client, cassette: ItemCassette | None) -> None:
        self._client = client
        self._cassette = cassette

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        extensions = dict(kwargs.pop("extensions", None) or {})
        if self._cassette is not None:
            extensions[CASSETTE] = self._cassette
        return self._client.request(method, url, extensions=extensions, **kwargs)

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)
