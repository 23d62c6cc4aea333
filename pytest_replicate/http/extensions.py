"""Names of the httpx request/response extensions our layers use to talk to each other.

Extensions ride on each request, so they work from any thread without shared state: the
item's cassette travels with its requests, and a replayed response says so.
"""

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
