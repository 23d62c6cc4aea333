"""The simulator's prediction timeline: sync mode, deadlines, streaming, listing, counters."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from pytest_replicate.simulator import Fault, RateLimit, Simulator
from pytest_replicate.simulator.faults import parse_duration

TOKEN = "r8_test_token"
LLAMA3 = "/v1/models/meta/meta-llama-3-8b-instruct/predictions"
FLUX = "/v1/models/black-forest-labs/flux-schnell/predictions"


def _client(simulator: Simulator) -> httpx.Client:
    return httpx.Client(base_url=simulator.url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5,
                        verify=False)


@pytest.fixture
def slow() -> Iterator[Simulator]:
    """Predictions take 0.2 s: 0.1 s starting, 0.1 s processing."""
    with Simulator(latency=0.2) as simulator:
        yield simulator


def _poll(client: httpx.Client, prediction: dict[str, Any]) -> dict[str, Any]:
    for _ in range(500):
        if prediction["status"] in ("succeeded", "failed", "canceled", "aborted"):
            return prediction
        time.sleep(0.01)
        prediction = client.get(prediction["urls"]["get"]).json()
    raise AssertionError(f"never terminal: {prediction['status']}")


def _events(text: str) -> list[tuple[str, str]]:
    """(event, data) pairs of a server-sent event stream."""
    events = []
    for block in text.strip().split("\n\n"):
        fields = [line.partition(": ") for line in block.splitlines()]
        event = next(value for name, _, value in fields if name == "event")
        assert any(name == "id" for name, _, _ in fields)  # the official client drops events without id
        events.append((event, "\n".join(value for name, _, value in fields if name == "data")))
    return events


# --- sync mode ---------------------------------------------------------------------------

def test_prefer_wait_shorter_than_the_model_returns_a_starting_prediction() -> None:
    with Simulator(latency=1.6) as simulator, _client(simulator) as client:  # 0.8 s starting, 0.8 s processing
        response = client.post(LLAMA3, json={"input": {"prompt": "Tell me about volcanoes"}},
                               headers={"Prefer": "wait=1"})
        prediction = response.json()
        assert response.status_code == 201
        assert prediction["status"] == "starting"  # as Replicate answers an expired hold, running or not
        assert prediction["started_at"] and prediction["completed_at"] is None
        assert prediction["metrics"] == {}  # metrics arrive when it finishes


def test_a_running_language_model_shows_partial_output(slow: Simulator) -> None:
    with _client(slow) as client:
        prediction = client.post(LLAMA3, json={"input": {"prompt": "Tell me about volcanoes"}}).json()
        seen = []
        while prediction["status"] != "succeeded":
            if prediction["status"] == "processing" and prediction["output"]:
                seen.append(prediction["output"])
            time.sleep(0.005)
            prediction = client.get(prediction["urls"]["get"]).json()
        final = prediction["output"]
        assert all(final[:len(partial)] == partial for partial in seen)  # prefixes of the final output
        assert prediction["metrics"]["output_token_count"] == len(final)
        assert prediction["metrics"]["predict_time"] > 0
        assert prediction["created_at"] <= prediction["started_at"] <= prediction["completed_at"]


# --- Cancel-After ------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "seconds"), [("30", 30), ("5s", 5), ("1m30s", 90), ("1h", 3600),
                                               ("250ms", 0.25), ("0.5s", 0.5)])
def test_durations_parse_like_replicate(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "soon", "5x", "1m 30s", "-5s"])
def test_bad_durations_are_rejected(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def test_cancel_after_cancels_a_running_prediction(slow: Simulator) -> None:
    slow.latency = 0.4  # starts after 0.2 s; the deadline falls while it runs
    with _client(slow) as client:
        prediction = client.post(LLAMA3, json={"input": {"prompt": "hi"}}, headers={"Cancel-After": "300ms"}).json()
        final = _poll(client, prediction)
    assert final["status"] == "canceled"
    (record,) = slow.cancel_log()
    assert (record.id, record.status, record.by) == (prediction["id"], "canceled", "deadline")
    assert slow.canceled == []  # no client asked


def test_cancel_after_before_the_start_aborts(slow: Simulator) -> None:
    slow.add_fault(Fault("slow_start", delay=5))
    with _client(slow) as client:
        prediction = client.post(LLAMA3, json={"input": {"prompt": "hi"}}, headers={"Cancel-After": "50ms"}).json()
        final = _poll(client, prediction)
    assert final["status"] == "aborted"
    assert final["started_at"] is None and final["metrics"] == {}
    assert [(r.status, r.by) for r in slow.cancel_log()] == [("aborted", "deadline")]


def test_bad_cancel_after_is_422(slow: Simulator) -> None:
    with _client(slow) as client:
        response = client.post(LLAMA3, json={"input": {"prompt": "hi"}}, headers={"Cancel-After": "soon"})
    assert response.status_code == 422
    assert slow.predictions_created() == []


def test_client_cancel_is_logged(slow: Simulator) -> None:
    slow.latency = 5
    with _client(slow) as client:
        prediction = client.post(LLAMA3, json={"input": {"prompt": "hi"}}).json()
        client.post(prediction["urls"]["cancel"])
    (record,) = slow.cancel_log()
    assert (record.id, record.model, record.status, record.by) == (
        prediction["id"], "meta/meta-llama-3-8b-instruct", "canceled", "client")
    assert record.at >= time.time() - 60


# --- streaming ---------------------------------------------------------------------------------

def test_stream_sends_each_token_then_done(slow: Simulator) -> None:
    with _client(slow) as client:
        prediction = client.post(LLAMA3, json={"input": {"prompt": "What is the capital of France?"},
                                               "stream": True}).json()
        response = client.get(prediction["urls"]["stream"], headers={"Accept": "text/event-stream"})
    assert response.headers["content-type"] == "text/event-stream"
    events = _events(response.text)
    assert events[-1] == ("done", "{}")
    assert "".join(data for event, data in events if event == "output") == "The capital of France is Paris."


def test_stream_of_an_image_model_sends_the_file_url(slow: Simulator) -> None:
    with _client(slow) as client:
        prediction = client.post(FLUX, json={"input": {"prompt": "a fox", "num_outputs": 2}}).json()
        events = _events(client.get(prediction["urls"]["stream"]).text)
    outputs = [data for event, data in events if event == "output"]
    assert len(outputs) == 2 and all(url.startswith(f"{slow.url}/files/") for url in outputs)
    assert events[-1] == ("done", "{}")


def test_stream_of_a_failed_prediction_sends_error_then_done(slow: Simulator) -> None:
    slow.add_fault(Fault("fail"))
    with _client(slow) as client:
        prediction = client.post(LLAMA3, json={"input": {"prompt": "hi"}}).json()
        events = _events(client.get(prediction["urls"]["stream"]).text)
    assert [event for event, _ in events] == ["error", "done"]
    assert "CUDA out of memory" in events[0][1]
    assert events[1] == ("done", '{"reason": "error"}')


def test_stream_ends_when_the_prediction_is_canceled() -> None:
    with Simulator(latency=30) as simulator, _client(simulator) as client:
        prediction = client.post(LLAMA3, json={"input": {"prompt": "hi"}}).json()
        threading.Timer(0.05, lambda: httpx.post(prediction["urls"]["cancel"],
                                                 headers={"Authorization": f"Bearer {TOKEN}"})).start()
        events = _events(client.get(prediction["urls"]["stream"]).text)
    assert events == [("done", '{"reason": "canceled"}')]


# --- listing and lookups -------------------------------------------------------------------------

def test_predictions_list_is_cursor_paginated_newest_first() -> None:
    with Simulator(page_size=2) as simulator, _client(simulator) as client:
        ids = [client.post(LLAMA3, json={"input": {"prompt": f"n{i}"}}).json()["id"] for i in range(5)]
        first = client.get("/v1/predictions").json()
        assert [p["id"] for p in first["results"]] == ids[::-1][:2]
        assert first["previous"] is None
        second = client.get(first["next"]).json()
        third = client.get(second["next"]).json()
        assert [p["id"] for p in second["results"] + third["results"]] == ids[::-1][2:]
        assert third["next"] is None
        assert client.get(third["previous"]).json() == second


def test_deployment_lookup(simulator: Simulator) -> None:
    with _client(simulator) as client:
        deployment = client.get("/v1/deployments/acme/support-bot").json()
        assert deployment["current_release"]["model"] == "meta/meta-llama-3-8b-instruct"
        assert client.get("/v1/deployments/acme/nope").status_code == 404
        created = client.post("/v1/deployments/acme/support-bot/predictions", json={"input": {"prompt": "hi"}})
        assert created.json()["deployment"] == "acme/support-bot"


# --- files -----------------------------------------------------------------------------------------

def test_upload_then_use_the_file_as_an_input(simulator: Simulator) -> None:
    with _client(simulator) as client:
        upload = client.post("/v1/files", files={"content": ("cat.png", b"\x89PNG fake", "image/png")})
        assert upload.status_code == 201
        stored = upload.json()
        assert (stored["name"], stored["content_type"], stored["size"]) == ("cat.png", "image/png", 9)
        assert client.get(stored["urls"]["get"]).json()["id"] == stored["id"]
        assert client.get(stored["urls"]["get"] + "/download").content == b"\x89PNG fake"
        version = client.get("/v1/models/yorickvp/llava-13b").json()["latest_version"]["id"]
        for image in (stored["urls"]["get"], "data:image/png;base64,iVBORw0KGgo="):
            run = client.post("/v1/predictions", json={"version": version,
                                                       "input": {"image": image, "prompt": "What is this?"}})
            assert run.status_code == 201, run.text
        missing = client.post("/v1/predictions", json={"version": version, "input": {
            "image": f"{simulator.url}/v1/files/nope", "prompt": "What is this?"}})
        assert missing.status_code == 422
        assert missing.json()["invalid_fields"][0]["field"] == "input.image"
        assert client.delete(stored["urls"]["get"]).status_code == 204
        assert client.get(stored["urls"]["get"]).status_code == 404


# --- counters for the scheduler's tests ------------------------------------------------------

def test_concurrent_predictions_each_take_their_own_latency(slow: Simulator) -> None:
    def run() -> None:
        with _client(slow) as client:
            client.post(LLAMA3, json={"input": {"prompt": "hi"}}, headers={"Prefer": "wait=5"})

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert slow.peak_running() == 4  # overlapping, not serialized
    assert slow.running() == 0
    assert slow.creates_per_model() == {"meta/meta-llama-3-8b-instruct": 4}


def test_sequential_predictions_never_overlap(simulator: Simulator) -> None:
    with _client(simulator) as client:
        for _ in range(3):
            client.post(LLAMA3, json={"input": {"prompt": "hi"}})
    assert simulator.peak_running() == 1


def test_concurrency_limit_throttles_and_back_pressure_gets_everything_through(slow: Simulator) -> None:
    slow.rate_limit = RateLimit(concurrent=2)
    done = []

    def run(i: int) -> None:
        with _client(slow) as client:
            while True:
                response = client.post(LLAMA3, json={"input": {"prompt": f"n{i}"}}, headers={"Prefer": "wait=5"})
                if response.status_code != 429:
                    done.append(response.json()["status"])
                    return
                assert response.json()["detail"].startswith("Request was throttled.")
                time.sleep(float(response.headers["Retry-After"]))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert done == ["succeeded"] * 5
    assert slow.peak_running() <= 2
    assert slow.throttled() > 0
    assert slow.creates_per_model() == {"meta/meta-llama-3-8b-instruct": 5}


def test_window_limit_can_leave_out_retry_after(simulator: Simulator) -> None:
    simulator.rate_limit = RateLimit(per_window=2, window=60, send_retry_after=False)
    with _client(simulator) as client:
        statuses = [client.post(LLAMA3, json={"input": {"prompt": "hi"}}) for _ in range(3)]
    assert [r.status_code for r in statuses] == [201, 201, 429]
    assert "retry-after" not in statuses[2].headers
    assert "resets in ~" in statuses[2].json()["detail"]


def test_reset_clears_the_counters(slow: Simulator) -> None:
    with _client(slow) as client:
        prediction = client.post(LLAMA3, json={"input": {"prompt": "hi"}}).json()
        client.post(prediction["urls"]["cancel"])
    slow.reset()
    assert (slow.peak_running(), slow.cancel_log(), slow.creates_per_model(), slow.throttled()) == (0, [], {}, 0)
