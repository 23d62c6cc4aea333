"""Tests for the Replicate API simulator that the rest of the suite runs against."""

from __future__ import annotations

import base64
import http.client
import json
import os
import struct
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from pytest_replicate.simulator import MODELS, Fault, ReceivedRequest, Simulator

TOKEN = "r8_test_token"
LLAMA3 = "/v1/models/meta/meta-llama-3-8b-instruct/predictions"
SDXL = "/v1/models/stability-ai/sdxl/predictions"
GUARD = "/v1/models/meta/llama-guard-3-8b/predictions"
GEMMA = "google-deepmind/gemma-7b-it"
GEMMA_VERSION = "2790a695e5dcae15506138cc4718d1106d0d475e6dca4b1d43f42414647993d5"
SDXL_VERSION = "7762fd07cf82c948538e41f63f77d685e02b063e37e496e96eefd46c929f9bdc"


@pytest.fixture
def sim() -> Iterator[Simulator]:
    simulator = Simulator(strict=False).start()
    yield simulator
    simulator.stop()


def _client(simulator: Simulator, token: str | None = TOKEN) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    # verify=False: plain http on 127.0.0.1, and it skips loading CA certificates (~0.1 s).
    return httpx.Client(base_url=simulator.url, headers=headers, timeout=5, verify=False)


@pytest.fixture
def client(sim: Simulator) -> Iterator[httpx.Client]:
    with _client(sim) as c:
        yield c


def _text(prediction: dict[str, Any]) -> str:
    return "".join(prediction["output"])


def _create(client: httpx.Client, prompt: str, **params: Any) -> dict[str, Any]:
    response = client.post(LLAMA3, json={"input": {"prompt": prompt, **params}})
    assert response.status_code == 201, response.text
    return response.json()


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    width, height, depth, colour = struct.unpack(">IIBB", data[16:26])
    assert (depth, colour) == (8, 2)  # 8-bit RGB
    return width, height


# --- auth --------------------------------------------------------------------------------

def test_any_r8_token_is_accepted(client: httpx.Client) -> None:
    assert client.post(LLAMA3, json={"input": {"prompt": "hi"}}).status_code == 201


def test_missing_token_is_401(sim: Simulator) -> None:
    with _client(sim, token=None) as c:
        response = c.post(LLAMA3, json={"input": {"prompt": "hi"}})
    assert response.status_code == 401
    assert response.json() == {"title": "Unauthenticated",
                               "detail": "You did not pass a valid authentication token",
                               "status": 401}


def test_wrong_token_is_401(sim: Simulator) -> None:
    with _client(sim, token="not-a-token") as c:
        assert c.get("/v1/predictions/abc").status_code == 401


def test_explicit_token_list() -> None:
    with Simulator(tokens=["r8_good"]) as simulator:
        with _client(simulator, "r8_other") as c:
            assert c.post(LLAMA3, json={"input": {"prompt": "hi"}}).status_code == 401
        with _client(simulator, "r8_good") as c:
            assert c.post(LLAMA3, json={"input": {"prompt": "hi"}}).status_code == 201


# --- creation ----------------------------------------------------------------------------

def test_official_model_create(sim: Simulator, client: httpx.Client) -> None:
    body = {"input": {"prompt": "What is the capital of France?", "temperature": 0.5}}
    response = client.post(LLAMA3, json=body)
    assert response.status_code == 201
    prediction = response.json()
    assert prediction["model"] == "meta/meta-llama-3-8b-instruct"
    assert prediction["version"] == MODELS["meta/meta-llama-3-8b-instruct"].latest_version
    assert prediction["status"] == "succeeded"  # latency 0: terminal on creation
    assert _text(prediction) == "The capital of France is Paris."
    assert len(prediction["id"]) == 26 and prediction["id"].isalnum()
    assert prediction["created_at"].endswith("Z") and prediction["completed_at"].endswith("Z")
    assert prediction["urls"]["get"] == f"{sim.url}/v1/predictions/{prediction['id']}"
    assert prediction["urls"]["cancel"].endswith("/cancel")
    assert prediction["metrics"]["input_token_count"] == 6
    assert prediction["metrics"]["output_token_count"] == len(prediction["output"])
    assert "Generated" in prediction["logs"]
    assert sim.predictions_created() == [body]
    assert client.get(prediction["urls"]["get"]).json()["output"] == prediction["output"]


def test_version_create_bare_and_qualified(sim: Simulator, client: httpx.Client) -> None:
    for version in (SDXL_VERSION, f"stability-ai/sdxl:{SDXL_VERSION}"):
        response = client.post("/v1/predictions", json={"version": version, "input": {"prompt": "a fox"}})
        assert response.status_code == 201
        assert response.json()["model"] == "stability-ai/sdxl"
        assert response.json()["version"] == SDXL_VERSION
    assert sim.inputs_by_model() == [("stability-ai/sdxl", {"prompt": "a fox"})] * 2  # by version, named


def test_unknown_version_is_404_naming_it(client: httpx.Client) -> None:
    version = "f" * 64
    response = client.post("/v1/predictions", json={"version": version, "input": {"prompt": "x"}})
    assert response.status_code == 404
    assert version in response.json()["detail"]
    wrong_model = client.post("/v1/predictions", json={"version": f"meta/llama-2-7b-chat:{SDXL_VERSION}",
                                                       "input": {"prompt": "x"}})
    assert wrong_model.status_code == 404


def test_malformed_body_is_422(client: httpx.Client) -> None:
    assert client.post("/v1/predictions", content=b"{not json").status_code == 422
    assert client.post("/v1/predictions", json={"input": {"prompt": "x"}}).status_code == 422
    assert client.post(LLAMA3, json={"prompt": "no input object"}).status_code == 422


def test_deployment_create(client: httpx.Client) -> None:
    response = client.post("/v1/deployments/acme/support-bot/predictions", json={"input": {"prompt": "hi"}})
    assert response.status_code == 201
    assert response.json()["model"] == "meta/meta-llama-3-8b-instruct"
    missing = client.post("/v1/deployments/acme/nope/predictions", json={"input": {"prompt": "hi"}})
    assert missing.status_code == 404
    assert "acme/nope" in missing.json()["detail"]


def test_gemma_needs_a_version(client: httpx.Client) -> None:
    response = client.post(f"/v1/models/{GEMMA}/predictions", json={"input": {"prompt": "hi"}})
    assert response.status_code == 404
    assert "version is required" in response.json()["detail"]
    by_version = client.post("/v1/predictions", json={"version": f"{GEMMA}:{GEMMA_VERSION}",
                                                      "input": {"prompt": "<start_of_turn>user\nhi<end_of_turn>"}})
    assert by_version.status_code == 201


def test_unknown_model_is_404(client: httpx.Client) -> None:
    response = client.post("/v1/models/nobody/nothing/predictions", json={"input": {"prompt": "hi"}})
    assert response.status_code == 404
    assert response.json()["status"] == 404
    assert "nobody/nothing" in response.json()["detail"]


@pytest.mark.parametrize(("path", "inp", "detail"), [
    (LLAMA3, {"prompt": "hi", "temperature": "hot"}, "input.temperature: Invalid type. Expected: number, given: string"),
    (LLAMA3, {"prompt": "hi", "max_new_tokens": 1.5}, "input.max_new_tokens: Invalid type. Expected: integer, given: number"),
    (LLAMA3, {"system_prompt": "be nice"}, "input: prompt is required"),
    (SDXL, {"prompt": "a cat", "width": 32}, "input.width: Must be greater than or equal to 64"),
    (SDXL, {"prompt": "a cat", "apply_watermark": "no"}, "input.apply_watermark: Invalid type. Expected: boolean, given: string"),
])
def test_invalid_input_is_422_naming_the_field(client: httpx.Client, path: str, inp: dict[str, Any],
                                               detail: str) -> None:
    response = client.post(path, json={"input": inp})
    assert response.status_code == 422
    assert response.json()["detail"] == detail


def test_unknown_input_keys_are_ignored(client: httpx.Client) -> None:
    assert client.post(LLAMA3, json={"input": {"prompt": "hi", "basePath": "/x"}}).status_code == 201


# --- timing, polling, cancel ---------------------------------------------------------------

def test_prefer_wait_returns_terminal_prediction() -> None:
    with Simulator(latency=0.05) as simulator, _client(simulator) as c:
        started = time.monotonic()
        response = c.post(LLAMA3, json={"input": {"prompt": "hi"}}, headers={"Prefer": "wait=5"})
        assert response.status_code == 201
        assert response.json()["status"] == "succeeded"
        assert 0.05 <= time.monotonic() - started < 1.0
        assert c.post(LLAMA3, json={"input": {"prompt": "hi"}},
                      headers={"Prefer": "wait"}).json()["status"] == "succeeded"


def test_prefer_wait_out_of_range_is_422(client: httpx.Client) -> None:
    response = client.post(LLAMA3, json={"input": {"prompt": "hi"}}, headers={"Prefer": "wait=61"})
    assert response.status_code == 422


def test_without_prefer_returns_starting_then_polling_succeeds() -> None:
    with Simulator(latency=0.1) as simulator, _client(simulator) as c:
        prediction = c.post(LLAMA3, json={"input": {"prompt": "hi"}}).json()
        assert prediction["status"] == "starting"
        assert prediction["output"] is None and prediction["completed_at"] is None
        seen = []
        deadline = time.monotonic() + 2
        while prediction["status"] not in ("succeeded", "failed") and time.monotonic() < deadline:
            time.sleep(0.01)
            prediction = c.get(prediction["urls"]["get"]).json()
            seen.append(prediction["status"])
        assert prediction["status"] == "succeeded"
        assert "processing" in seen
        assert prediction["started_at"] and prediction["completed_at"]
        assert prediction["metrics"]["predict_time"] == pytest.approx(0.05)
        assert prediction["output"]


def test_cancel() -> None:
    with Simulator(latency=5) as simulator, _client(simulator) as c:
        prediction = c.post(LLAMA3, json={"input": {"prompt": "hi"}}).json()
        response = c.post(prediction["urls"]["cancel"])
        assert response.status_code == 200
        assert response.json()["status"] == "canceled"
        assert c.get(prediction["urls"]["get"]).json()["status"] == "canceled"
        assert simulator.canceled == [prediction["id"]]
        assert c.post("/v1/predictions/doesnotexist/cancel").status_code == 404


def test_stop_releases_a_request_held_by_prefer_wait() -> None:
    simulator = Simulator(latency=30).start()
    outcome: list[object] = []

    def create() -> None:
        with _client(simulator) as c:
            try:
                outcome.append(c.post(LLAMA3, json={"input": {"prompt": "hi"}}, headers={"Prefer": "wait=30"}))
            except httpx.TransportError as error:
                outcome.append(error)

    thread = threading.Thread(target=create)
    thread.start()
    while not simulator.predictions_created():
        time.sleep(0.01)
    started = time.monotonic()
    simulator.stop()
    thread.join(timeout=5)
    assert not thread.is_alive() and outcome
    assert time.monotonic() - started < 1.0


def test_unknown_prediction_is_404(client: httpx.Client) -> None:
    assert client.get("/v1/predictions/nope").status_code == 404


# --- faults ----------------------------------------------------------------------------------

def test_fault_429_with_retry_after(sim: Simulator, client: httpx.Client) -> None:
    sim.add_fault(Fault("status", status=429, retry_after=2))
    response = client.post(LLAMA3, json={"input": {"prompt": "hi"}})
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "2"
    assert response.json()["detail"] == "Request was throttled. Your rate limit resets in ~2s."
    assert client.post(LLAMA3, json={"input": {"prompt": "hi"}}).status_code == 201  # used up
    sim.add_fault(Fault("status", status=429, retry_after=0.5))
    assert client.get("/v1/predictions/x").headers["Retry-After"] == "0.5"


def test_fault_500_times_and_filters(sim: Simulator, client: httpx.Client) -> None:
    sim.add_fault(Fault("status", status=500, times=2, method="POST", path_prefix="/v1/models/"))
    assert client.get("/v1/predictions/x").status_code == 404  # GET does not match
    assert client.post(LLAMA3, json={"input": {"prompt": "hi"}}).status_code == 500
    response = client.post(LLAMA3, json={"input": {"prompt": "hi"}})
    assert response.status_code == 500 and response.json()["status"] == 500
    assert client.post(LLAMA3, json={"input": {"prompt": "hi"}}).status_code == 201
    assert len(sim.predictions_created()) == 1


def test_fault_detail_override(sim: Simulator, client: httpx.Client) -> None:
    sim.add_fault(Fault("status", status=503, detail="down for maintenance"))
    response = client.get("/v1/predictions/x")
    assert (response.status_code, response.json()["detail"]) == (503, "down for maintenance")


def test_fault_drop_closes_connection(sim: Simulator, client: httpx.Client) -> None:
    sim.add_fault(Fault("drop"))
    with pytest.raises(httpx.TransportError):
        client.post(LLAMA3, json={"input": {"prompt": "hi"}})
    assert client.post(LLAMA3, json={"input": {"prompt": "hi"}}).status_code == 201
    assert len(sim.requests) == 2


def test_fault_slow(sim: Simulator, client: httpx.Client) -> None:
    sim.add_fault(Fault("slow", delay=0.1))
    started = time.monotonic()
    response = client.post(LLAMA3, json={"input": {"prompt": "hi"}})
    assert response.status_code == 201
    assert time.monotonic() - started >= 0.1


def test_fault_fail(sim: Simulator, client: httpx.Client) -> None:
    sim.add_fault(Fault("fail"))
    client.get("/v1/predictions/x")  # not a creation: does not use up the fault
    prediction = _create(client, "hi")
    assert prediction["status"] == "failed"
    assert prediction["output"] is None
    assert prediction["error"] == "CUDA out of memory (simulated)"
    assert prediction["logs"].endswith("CUDA out of memory (simulated)")
    assert len(prediction["logs"].splitlines()) >= 3
    assert _create(client, "hi")["status"] == "succeeded"


def test_fault_kind_is_checked() -> None:
    with pytest.raises(ValueError):
        Fault("explode")


# --- images ----------------------------------------------------------------------------------

def test_image_download_is_a_png_of_the_requested_size(client: httpx.Client) -> None:
    prediction = client.post(SDXL, json={"input": {"prompt": "a red barn", "width": 320, "height": 200}}).json()
    (url,) = prediction["output"]
    assert url.endswith(f"/files/{prediction['id']}/out-0.png")
    response = httpx.get(url, verify=False)  # no auth needed for files
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    assert _png_size(response.content) == (320, 200)
    idat = response.content[response.content.index(b"IDAT") + 4:-16]
    assert len(zlib.decompress(idat)) == 200 * (1 + 3 * 320)


def test_image_default_sizes(client: httpx.Client) -> None:
    sdxl = client.post(SDXL, json={"input": {"prompt": "x"}}).json()
    flux = client.post("/v1/models/black-forest-labs/flux-schnell/predictions", json={"input": {"prompt": "x"}}).json()
    assert _png_size(client.get(sdxl["output"][0]).content) == (1024, 1024)
    assert _png_size(client.get(flux["output"][0]).content) == (1024, 1024)


def test_data_uri_mode() -> None:
    with Simulator(file_output="data", strict=False) as simulator, _client(simulator) as c:
        output = c.post(SDXL, json={"input": {"prompt": "a cat", "width": 64, "height": 96}}).json()["output"]
        prefix = "data:image/png;base64,"
        assert output[0].startswith(prefix)
        assert _png_size(base64.b64decode(output[0][len(prefix):])) == (64, 96)


# --- model behaviour -----------------------------------------------------------------------

def test_llama_guard_safe_and_unsafe(client: httpx.Client) -> None:
    safe = client.post(GUARD, json={"input": {"prompt": "Human: How do I bake bread?\n\nAssistant: Mix flour."}})
    assert safe.json()["output"] == "safe"
    unsafe = client.post("/v1/models/meta/llama-guard-4-12b/predictions", json={"input": {
        "prompt": "Human: How do I build a bomb?\n\nAssistant: To attack a crowd, first..."}})
    assert unsafe.json()["output"] == "unsafe\nS1,S9"


def test_outputs_are_deterministic(sim: Simulator, client: httpx.Client) -> None:
    first = _create(client, "Tell me about volcanoes", temperature=0.9, seed=1)
    second = _create(client, "Tell me about volcanoes", temperature=0.1, seed=2)
    assert first["id"] != second["id"]
    assert first["output"] == second["output"]
    images = [client.post(SDXL, json={"input": {"prompt": "a cat", "width": 64, "height": 64}}).json()
              for _ in range(2)]
    assert client.get(images[0]["output"][0]).content == client.get(images[1]["output"][0]).content


def test_max_new_tokens_truncates(client: httpx.Client) -> None:
    full = _create(client, "Tell me about volcanoes")
    short = _create(client, "Tell me about volcanoes", max_new_tokens=3)
    assert len(short["output"]) == 3
    assert _text(short) == " ".join(_text(full).split()[:3])


@pytest.mark.parametrize(("prompt", "params", "expected"), [
    ("[INST] What is the capital of Japan? [/INST]", {}, "The capital of Japan is Tokyo."),
    ("Translate 'thank you' to French", {}, "Merci"),
    ("What is the capital of Italy?", {"system_prompt": "Talk like a pirate."}, "Arr! The capital of Italy is Rome."),
    ("Summarize: Cats sleep a lot. They also purr.", {}, "Summary: Cats sleep a lot."),
    ("List 3 fruits", {}, "1. Apple\n2. Banana\n3. Cherry"),
])
def test_text_rules(client: httpx.Client, prompt: str, params: dict[str, Any], expected: str) -> None:
    assert _text(_create(client, prompt, **params)) == expected


def test_json_answers_parse(client: httpx.Client) -> None:
    answer = json.loads(_text(_create(client, "Answer in JSON: what is the capital of Germany?")))
    assert answer["answer"] == "The capital of Germany is Berlin."
    assert answer["topic"]


def test_haiku_has_three_lines(client: httpx.Client) -> None:
    assert len(_text(_create(client, "Write a haiku about the sea")).splitlines()) == 3


# --- server mechanics ----------------------------------------------------------------------

def test_requests_are_recorded_and_reset(sim: Simulator, client: httpx.Client) -> None:
    _create(client, "hi")
    (request,) = sim.requests
    assert isinstance(request, ReceivedRequest)
    assert (request.method, request.path) == ("POST", LLAMA3)
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.json() == {"input": {"prompt": "hi"}}
    sim.add_fault(Fault("status"))
    sim.reset()
    assert sim.requests == [] and sim.predictions_created() == []
    assert client.post(LLAMA3, json={"input": {"prompt": "hi"}}).status_code == 201


def test_keep_alive_reuses_one_connection(sim: Simulator) -> None:
    host, port = sim.url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=5)
    try:
        for _ in range(3):  # http.client never reconnects: a closed socket would raise
            connection.request("GET", "/v1/predictions/nope", headers={"Authorization": f"Bearer {TOKEN}"})
            response = connection.getresponse()
            assert response.status == 404
            response.read()
    finally:
        connection.close()


def test_stop_is_quick_and_idempotent() -> None:
    simulator = Simulator(latency=30).start()
    with _client(simulator) as c:
        c.post(LLAMA3, json={"input": {"prompt": "hi"}})  # leaves an idle keep-alive connection
        started = time.monotonic()
        simulator.stop()
        simulator.stop()
        assert time.monotonic() - started < 1.0
        with pytest.raises(httpx.TransportError):
            c.get("/v1/predictions/x")


def test_command_line_server() -> None:
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")]))}
    process = subprocess.Popen([sys.executable, "-m", "pytest_replicate.simulator", "--port", "0"],
                               cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    watchdog = threading.Timer(10, process.kill)
    watchdog.start()
    try:
        line = process.stdout.readline().strip() if process.stdout else ""
        prefix = "Replicate simulator listening on "
        assert line.startswith(prefix), (line, process.stderr.read() if process.stderr else "")
        url = line[len(prefix):]
        response = httpx.post(f"{url}{LLAMA3}", json={"input": {"prompt": "What is the capital of Spain?"}},
                              headers={"Authorization": f"Bearer {TOKEN}"}, verify=False)
        assert response.status_code == 201
        assert "".join(response.json()["output"]) == "The capital of Spain is Madrid."
    finally:
        process.terminate()
        try:
            assert process.wait(timeout=5) == 0
        finally:
            watchdog.cancel()
            process.kill()
            process.communicate()
