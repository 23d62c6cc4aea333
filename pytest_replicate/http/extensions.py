"""Names of the httpx request/response extensions our layers use to talk to each other.

Extensions ride on each request, so they work from any thread without shared state: the
item's cassette travels with its requests, and a replayed response says so.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx

CASSETTE = "pytest_replicate.cassette"  # request: the Cassette that records or replays it
REPLAYED = "pytest_replicate.replayed"  # response: the path of the cassette it was replayed from (callers must not sleep)
# request: an API request, as (http.auth.ApiAuth, its request line as first sent); the last hop
# asks the ApiAuth whether it may go out (a redirect to another origin, or no token, may not).
API_AUTH = "pytest_replicate.api_auth"
# request: the time.monotonic() by which its whole response must have arrived. httpx bounds each
# read, not the body: one trickling in a byte at a time would outlive any timeout.
DEADLINE = "pytest_replicate.deadline"
# request: a callable run just before the request goes to the network (never for a replay); it
# raises to refuse the request, as the spend limit does for an item's first live call (run/spend.py).
BEFORE_LIVE = "pytest_replicate.before_live"
# request: a callable told once the request is out: its body written to the network (a live
# request), or its answer back (a replayed or refused one). The scheduler holds back bookkeeping
# until the calls that just started are out (run/scheduler.py, wait_for_starts).
SENT = "pytest_replicate.sent"


def when_written(request: httpx.Request, told: Callable[[], None]) -> None:
    """Call ``told`` once ``request``'s body is written to the network, through httpcore's
    ``trace`` extension (a trace already on the request still sees every event first)."""
    earlier: Callable[[str, Any], None] | None = request.extensions.get("trace")

    def traced(event: str, info: Any) -> None:
        if earlier is not None:
            earlier(event, info)
        if event.endswith("send_request_body.complete"):
            told()

    request.extensions["trace"] = traced
