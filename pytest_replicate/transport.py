"""The session's HTTP stack: one pooled httpx client, cassette replay in front of the network."""

from __future__ import annotations

import httpx

from .errors import ProviderError
from .providers.replicate_api import NEEDS_TOKEN

MISSING_TOKEN = (
    "no Replicate API token to call {model}: set REPLICATE_API_TOKEN (or REPLICATE_API_KEY, or "
    "apiKey in the provider config), or replay recorded cassettes with --replicate-record-mode=none"
)


class LiveTransport(httpx.BaseTransport):
    """The last hop before the network; refuses an API call that has no token to send."""

    def __init__(self) -> None:
        self._network = httpx.HTTPTransport(retries=0)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        model = request.extensions.get(NEEDS_TOKEN)
        if model and "authorization" not in request.headers:
            raise ProviderError(MISSING_TOKEN.format(model=model))
        return self._network.handle_request(request)

    def close(self) -> None:
        self._network.close()


def make_client(transport: httpx.BaseTransport) -> httpx.Client:
    return httpx.Client(
        transport=transport,
        follow_redirects=True,
        timeout=httpx.Timeout(30.0, connect=5.0),
        headers={"User-Agent": "pytest-replicate"},
    )
