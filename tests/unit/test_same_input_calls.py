"""Calls that send the same input at once, against a scripted API: none touches another's prediction."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timezone

import httpx
import pytest
from helpers import FAKE_TOKEN

from pytest_replicate.errors import ProviderError
from pytest_replicate.providers import CallContext, PredictionClaims, create_provider

API = "https://api.replicate.com"
CREATE = "/v1/models/meta/llama-2-7b-chat/predictions"


def prediction(pid: str, status: str) -> dict:
    return {"id": pid, "model": "meta/llama-2-7b-chat", "status": status, "input": {"prompt": "Hi"},
            "output": "Paris", "created_at": datetime.now(timezone.utc).isoformat(),
            "urls": {"get": f"{API}/v1/predictions/{pid}", "cancel": f"{API}/v1/predictions/{pid}/cancel"}}


def test_a_call_past_its_deadline_leaves_a_held_sibling_s_prediction_alone() -> None:
    # Call A's create does not answer and its deadline passes; call B's create of the same input
    # is held. The list of predictions shows B's, still unclaimed: A cannot tell it from its own
    # while B's create is out, so it must not cancel it (A's own is canceled when it answers).
    arrived = {"a": threading.Event(), "b": threading.Event()}
    release = threading.Event()
    seen: list[str] = []

    def api(request: httpx.Request) -> httpx.Response:
        seen.append(f"{request.method} {request.url.path}")
        if request.method == "POST" and request.url.path == CREATE:
            who = "b" if arrived["a"].is_set() else "a"
            arrived[who].set()
            release.wait(10)
            return httpx.Response(201, json=prediction(f"p{who}", "processing"))
        if request.url.path == "/v1/predictions":
            return httpx.Response(200, json={"results": [prediction("pb", "processing")], "next": None})
        if request.url.path.endswith("/cancel"):
            return httpx.Response(200, json=prediction(request.url.path.split("/")[-2], "canceled"))
        return httpx.Response(200, json=prediction(request.url.path.rsplit("/", 1)[-1], "succeeded"))

    client = httpx.Client(transport=httpx.MockTransport(api))
    provider = create_provider("replicate:meta/llama-2-7b-chat", config={"poll_interval": 0.001},
                               env={"REPLICATE_API_TOKEN": FAKE_TOKEN})
    claims = PredictionClaims()
    outputs: dict[str, object] = {}

    def call_b() -> None:
        outputs["b"] = provider.call("Hi", CallContext(http=client, claims=claims)).output

    sibling = threading.Thread(target=call_b)
    a_context = CallContext(http=client, claims=claims, deadline=time.monotonic() + 0.3)
    with pytest.raises(ProviderError, match="did not finish within the run's deadline"):
        threading.Timer(0.1, sibling.start).start()  # once A's create is out
        provider.call("Hi", a_context)
    assert arrived["b"].is_set()  # B's create was held all along
    release.set()
    sibling.join(10)
    assert outputs["b"] == "Paris"
    assert "POST /v1/predictions/pb/cancel" not in seen
    deadline = time.monotonic() + 5
    while "POST /v1/predictions/pa/cancel" not in seen and time.monotonic() < deadline:
        time.sleep(0.01)  # A's helper cancels A's prediction once its create answers
    assert "POST /v1/predictions/pa/cancel" in seen
