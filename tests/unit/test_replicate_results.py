"""Provider behaviour that is easiest to pin with a scripted transport."""

from __future__ import annotations

import json

import httpx

from pytest_replicate.providers import CallContext, create_provider
from pytest_replicate.providers.replicate.api import retry_after_seconds


def scripted(*predictions: dict) -> httpx.Client:
    """A client whose create returns the first prediction and each poll the next one."""
    replies = list(predictions)

    def handler(request: httpx.Request) -> httpx.Response:
        status = 201 if request.method == "POST" else 200
        return httpx.Response(status, json=replies.pop(0) if len(replies) > 1 else replies[0])

    return httpx.Client(transport=httpx.MockTransport(handler))


def prediction(status: str, **fields) -> dict:
    base = {"id": "p1", "model": "meta/llama-2-7b-chat", "version": "v", "status": status,
            "urls": {"get": "https://api.replicate.com/v1/predictions/p1",
                     "cancel": "https://api.replicate.com/v1/predictions/p1/cancel"}}
    return {**base, **fields}


def call(client: httpx.Client, provider_id: str = "replicate:meta/llama-2-7b-chat"):
    provider = create_provider(provider_id, config={"poll_interval": 0.001}, env={"REPLICATE_API_TOKEN": "r8_unit"})
    return provider.call("Hi", CallContext(http=client))


def test_result_carries_prediction_metadata():
    client = scripted(
        prediction("starting"),
        prediction("succeeded", output=["Hel", "lo"], logs="line 1\nline 2", metrics={"predict_time": 0.42}),
    )
    response = call(client)
    assert response.error is None and response.output == "Hello"
    assert response.metadata["prediction_id"] == "p1"
    assert response.metadata["predict_time"] == 0.42
    assert response.metadata["logs_tail"] == "line 1\nline 2"
    assert response.latency_ms > 0


def test_non_text_outputs_are_serialised():
    response = call(scripted(prediction("succeeded", output={"label": "cat", "score": 0.9})))
    assert json.loads(response.output) == {"label": "cat", "score": 0.9}
    assert call(scripted(prediction("succeeded", output="plain"))).output == "plain"


def test_canceled_prediction_is_an_error():
    response = call(scripted(prediction("processing"), prediction("canceled")))
    assert response.error.startswith("prediction p1 of meta/llama-2-7b-chat was canceled")


def test_retry_after_sources():
    with_header = httpx.Response(429, headers={"Retry-After": "7"}, json={"detail": "slow down"})
    with_hint = httpx.Response(429, json={"detail": "Request was throttled. Your rate limit resets in ~30s."})
    without = httpx.Response(429, json={"detail": "Request was throttled."})
    assert retry_after_seconds(with_header) == 7
    assert retry_after_seconds(with_hint) == 30
    assert retry_after_seconds(without) is None
