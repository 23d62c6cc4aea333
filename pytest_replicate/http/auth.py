"""The Authorization header, added inside httpx so no frame of ours ever holds it.

A header dict passed down through our functions shows up in pytest's tracebacks
(``-l``, ``--full-trace``) whenever a request fails. An ``httpx.Auth`` writes the header
onto the request object, whose repr (and httpx's ``Headers`` repr) hides it.
"""

from __future__ import annotations

from collections.abc import Generator

import httpx

from ..redaction import PLACEHOLDER, Secret


class BearerAuth(httpx.Auth):
    """``Authorization: Bearer <token>`` for API requests; never for file downloads."""

    def __init__(self, token: Secret) -> None:
        self._token = token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = "Bearer " + self._token.reveal()
        yield request

    def __repr__(self) -> str:
        return f"BearerAuth({PLACEHOLDER})"
