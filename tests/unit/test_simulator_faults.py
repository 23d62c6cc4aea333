"""Faults that mirror what a real Replicate client meets."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from pytest_replicate.simulator import Fault, Simulator

TOKEN = "r8_test_token"
LLAMA3 = "/v1/models/meta/meta-llama-3-8b-instruct/predictions"
LLAMA2 = "/v1/models/meta/llama-2-7b-chat/predictions"
BODY = {"input": {"prompt": "hi"}}


@pytest.fixture
def client(simulator: Simulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=simulator.url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5,
                      verify=False) as c:
        yield c


@pytest.mark.parametrize("status", [500, 502])
def test_created_then_5xx_still_creates_the_prediction(simulator: Simulator, client: httpx.Client,
                                                       status: int) -> None:
    simulator.add_fault(Fault("created_then_status", status=status))
    response = client.post(LLAMA3, json=BODY)
    assert response.status_code == status
    assert simulator.creates_per_model() == {"meta/meta-llama-3-8b-instruct": 1}
    (created,) = client.get("/v1/predictions").json()["results"]
    assert created["status"] == "succeeded"  # a client that resends now makes a second one


def test_created_then_5xx_is_not_used_up_by_an_invalid_create(simulator: Simulator, client: httpx.Client) -> None:
    simulator.add_fault(Fault("created_then_status", status=500))
    assert client.post(LLAMA3, json={"input": {}}).status_code == 422
    assert client.post(LLAMA3, json=BODY).status_code == 500


def test_html_error_body(simulator: Simulator, client: httpx.Client) -> None:
    simulator.add_fault(Fault("status", status=502, body="<html>502 Bad Gateway</html>"))
    response = client.get("/v1/predictions/x")
    assert response.status_code == 502
    assert response.headers["content-type"] == "text/html"
    assert response.text == "<html>502 Bad Gateway</html>"


def test_429_with_and_without_retry_after(simulator: Simulator, client: httpx.Client) -> None:
    simulator.add_fault(Fault("status", status=429, retry_after=2))
    simulator.add_fault(Fault("status", status=429))
    with_header, without = client.post(LLAMA3, json=BODY), client.post(LLAMA3, json=BODY)
    assert with_header.headers["retry-after"] == "2"
    assert "retry-after" not in without.headers
    assert without.json()["title"] == "Request was throttled"
    assert simulator.predictions_created() == []


@pytest.mark.parametrize("body", ["[]", "{}"])
def test_wrong_json_shape(simulator: Simulator, client: httpx.Client, body: str) -> None:
    simulator.add_fault(Fault("shape", body=body))
    response = client.post(LLAMA3, json=BODY)
    assert response.status_code == 201
    assert response.text == body


def test_an_html_shape_is_served_as_html(simulator: Simulator, client: httpx.Client) -> None:
    simulator.add_fault(Fault("shape", body="<html>busy</html>"))
    response = client.post(LLAMA3, json=BODY)
    assert (response.status_code, response.headers["content-type"]) == (201, "text/html")


def test_status_faults_add_headers(simulator: Simulator, client: httpx.Client) -> None:
    simulator.add_fault(Fault("status", status=302, headers={"Location": LLAMA3}))
    response = client.post(LLAMA3, json=BODY)
    assert (response.status_code, response.headers["location"]) == (302, LLAMA3)


def test_reply_missing_keys(simulator: Simulator, client: httpx.Client) -> None:
    simulator.add_fault(Fault("shape", drop_keys=("id", "status")))
    prediction = client.post(LLAMA3, json=BODY).json()
    assert "id" not in prediction and "status" not in prediction
    assert prediction["urls"]["get"]


def test_hanging_poll_answers_nothing_until_the_client_gives_up(simulator: Simulator, client: httpx.Client) -> None:
    prediction = client.post(LLAMA3, json=BODY).json()
    simulator.add_fault(Fault("hang", method="GET"))
    with pytest.raises(httpx.ReadTimeout):
        client.get(prediction["urls"]["get"], timeout=0.2)
    assert client.get(prediction["urls"]["get"]).json()["status"] == "succeeded"  # used up


def test_hang_with_a_delay_then_answers(simulator: Simulator, client: httpx.Client) -> None:
    simulator.add_fault(Fault("hang", delay=0.05))
    assert client.get("/v1/predictions/nope").status_code == 404


def test_dying_server_stops_accepting_connections(simulator: Simulator, client: httpx.Client) -> None:
    assert client.post(LLAMA3, json=BODY).status_code == 201
    simulator.add_fault(Fault("die"))
    with pytest.raises(httpx.TransportError):
        client.post(LLAMA3, json=BODY)
    for _ in range(200):  # stop() runs on a helper thread: soon nothing listens on the port
        try:
            httpx.get(f"{simulator.url}/v1/predictions", headers=client.headers, timeout=0.5)
        except httpx.ConnectError:
            return
        time.sleep(0.01)
    pytest.fail("the server still accepts connections")


def test_faults_can_target_one_model(simulator: Simulator, client: httpx.Client) -> None:
    simulator.add_fault(Fault("fail", model="meta/llama-2-7b-chat"))
    assert client.post(LLAMA3, json=BODY, headers={"Prefer": "wait"}).json()["status"] == "succeeded"
    assert client.post(LLAMA2, json=BODY, headers={"Prefer": "wait"}).json()["status"] == "failed"


def test_a_model_fault_also_matches_polls_and_version_creates(simulator: Simulator, client: httpx.Client) -> None:
    llama2 = client.post(LLAMA2, json=BODY).json()
    simulator.add_fault(Fault("status", status=503, model="meta/llama-2-7b-chat", times=2))
    assert client.get("/v1/predictions/nope").status_code == 404  # not about that model
    assert client.get(llama2["urls"]["get"]).status_code == 503
    version = {"version": llama2["version"], **BODY}
    assert client.post("/v1/predictions", json=version).status_code == 503


def test_unknown_fault_kind_and_bad_values_are_rejected() -> None:
    with pytest.raises(ValueError, match="unknown fault kind"):
        Fault("explode")
    with pytest.raises(ValueError, match="delay"):
        Fault("slow", delay=-1)
