"""Who gets the API token: the API's own origin, and nothing else. One place decides.

The Authorization header is added inside httpx, so no frame of ours ever holds it: a header
dict passed down through our functions shows up in pytest's tracebacks (``-l``,
``--full-trace``) whenever a request fails. An ``httpx.Auth`` writes the header onto the
request object, whose repr (and httpx's ``Headers`` repr) hides it.

The header goes only to the configured base URL's origin (scheme, host and port). A prediction's
``urls`` or a redirect may name another host; a request there goes without the token, and if it
is an API request that needs one, the network layer refuses it with what happened
(:meth:`ApiAuth.refusal`), rather than sending it, or blaming a missing token.
"""

from __future__ import annotations

from collections.abc import Generator

import httpx

from ..redaction import PLACEHOLDER, Secret
from .extensions import API_AUTH

_DEFAULT_PORTS = {"http": 80, "https": 443}


def origin(url: httpx.URL | str) -> str:
    """``scheme://host[:port]`` of ``url``: equal for equal origins, the port shown unless it is the default."""
    parsed = httpx.URL(url)
    host = f"[{parsed.host}]" if ":" in parsed.host else parsed.host
    port = parsed.port if parsed.port != _DEFAULT_PORTS.get(parsed.scheme) else None
    return f"{parsed.scheme}://{host}" + (f":{port}" if port else "")


class ApiAuth(httpx.Auth):
    """``Authorization: Bearer <token>`` on requests to ``base_url``'s origin; never elsewhere.

    Each request it authenticates carries it (the ``API_AUTH`` extension) with the request line
    as first sent, so the last hop (``LiveTransport``) can refuse, with a clear message, an API
    request that left the origin through a redirect or that has no token to send. ``missing``
    is the message for the latter (it names the model and where a token comes from).
    """

    def __init__(self, token: Secret | None, base_url: str, missing: str) -> None:
        self._token = token
        self.base_url = base_url.rstrip("/")
        self.origin = origin(base_url)
        self.missing = missing

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.extensions[API_AUTH] = (self, f"{request.method} {request.url.path}")
        if self._token and origin(request.url) == self.origin:
            request.headers["Authorization"] = "Bearer " + self._token.reveal()
        yield request

    def refusal(self, request: httpx.Request, sent: str) -> str | None:
        """Why ``request`` (first sent as ``sent``) must not go out as it is; None when it may.

        httpx drops the header when it follows a redirect to another origin; a redirect within
        the origin keeps it.
        """
        if "authorization" in request.headers:
            return None
        there = origin(request.url)
        if there != self.origin:
            return (f"the API at {self.base_url} redirected {sent} to another origin, {there}; the API token is "
                    f"sent only to {self.origin}, so the request was not made. Check REPLICATE_BASE_URL or "
                    "config.base_url (it should name the server that answers, e.g. https://api.replicate.com)")
        return self.missing

    def __repr__(self) -> str:
        return f"ApiAuth({PLACEHOLDER}, {self.origin})"
