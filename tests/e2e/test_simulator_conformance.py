"""The official ``replicate`` Python client works against the simulator unchanged.

If the simulator answers in a shape the real client cannot read (a missing key, a wrong
status code, an event without an id), these tests fail, so they guard the simulator's
faithfulness rather than the client.
"""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from helpers import FAKE_TOKEN

from pytest_replicate.simulator import MODELS, Fault, Simulator

replicate = pytest.importorskip("replicate", reason="the official client is a dev extra: pip install -e '.[dev]'")
from replicate.exceptions import ModelError, ReplicateError  # noqa: E402
from replicate.helpers import FileOutput  # noqa: E402

LLAMA2 = "meta/llama-2-7b-chat"
LLAMA3 = "meta/meta-llama-3-8b-instruct"
SDXL = f"stability-ai/sdxl:{MODELS['stability-ai/sdxl'].latest_version}"


def _client(simulator: Simulator, token: str = FAKE_TOKEN) -> replicate.Client:
    client = replicate.Client(api_token=token, base_url=simulator.url)
    client.poll_interval = 0.01
    return client


@pytest.fixture
def client(simulator: Simulator) -> Iterator[replicate.Client]:
    yield _client(simulator)


def test_run_official_model_uses_prefer_wait(simulator: Simulator, client: replicate.Client) -> None:
    output = client.run(LLAMA3, input={"prompt": "What is the capital of France?"})
    assert "".join(output) == "The capital of France is Paris."
    (create,) = simulator.requests
    assert create.path == f"/v1/models/{LLAMA3}/predictions"
    assert create.headers["prefer"].startswith("wait")


def test_run_by_version_iterates_tokens(simulator: Simulator, client: replicate.Client) -> None:
    version = MODELS[LLAMA2].latest_version
    output = client.run(f"{LLAMA2}:{version}", input={"prompt": "What is the capital of Japan?"})
    assert not isinstance(output, list)  # the version's schema says "iterator": the client yields tokens
    assert "".join(output) == "The capital of Japan is Tokyo."
    assert [r.path for r in simulator.requests][-1] == f"/v1/models/{LLAMA2}/versions/{version}"


def test_run_polls_a_slow_prediction() -> None:
    with Simulator(latency=0.1) as simulator:
        client = _client(simulator)
        prediction = client.predictions.create(model=LLAMA3, input={"prompt": "hi"})
        assert prediction.status == "starting"
        prediction.wait()
        assert prediction.status == "succeeded" and prediction.metrics["predict_time"] > 0
        assert prediction.output


def test_run_with_a_wait_shorter_than_the_model_polls_to_the_output() -> None:
    """run() polls only when the held create answers "starting", so an expired hold must say so."""
    with Simulator(latency=1.6) as simulator:  # 0.8 s starting: the hold ends while it runs
        output = _client(simulator).run(LLAMA3, input={"prompt": "What is the capital of France?"}, wait=1)
        assert "".join(output) == "The capital of France is Paris."
        assert [r.method for r in simulator.requests][-1] == "GET"


def test_predictions_create_get_cancel_list(simulator: Simulator) -> None:
    simulator.latency = 5
    client = _client(simulator)
    version = MODELS[LLAMA2].latest_version
    first = client.predictions.create(version=version, input={"prompt": "one"})
    second = client.models.predictions.create(model=LLAMA2, input={"prompt": "two"})
    assert client.predictions.get(first.id).status in ("starting", "processing")
    second.cancel()
    assert client.predictions.get(second.id).status == "canceled"
    simulator.page_size = 1
    page = client.predictions.list()
    assert [p.id for p in page.results] == [second.id]
    assert [p.id for p in client.predictions.list(page.next).results] == [first.id]
    assert [record.id for record in simulator.cancel_log()] == [second.id]
    first.cancel()


def test_models_versions_and_deployments(client: replicate.Client) -> None:
    model = client.models.get(LLAMA3)
    assert model.latest_version.id == MODELS[LLAMA3].latest_version
    assert model.versions.get(model.latest_version.id).openapi_schema["components"]["schemas"]["Input"]
    assert [v.id for v in model.versions.list()] == list(MODELS[LLAMA3].versions)
    deployment = client.deployments.get("acme/support-bot")
    assert deployment.current_release.model == LLAMA3
    prediction = deployment.predictions.create(input={"prompt": "What is the capital of Italy?"}, wait=True)
    assert "".join(prediction.output) == "The capital of Italy is Rome."


def test_image_outputs_become_file_outputs() -> None:
    with Simulator(file_output="data") as simulator:
        (image,) = _client(simulator).run(SDXL, input={"prompt": "a fox", "width": 64, "height": 64})
    assert isinstance(image, FileOutput)
    assert image.read().startswith(b"\x89PNG")


def test_uploaded_file_as_an_input(client: replicate.Client) -> None:
    stored = client.files.create(io.BytesIO(b"\x89PNG fake"), filename="fox.png")
    assert stored.size == 9 and client.files.get(stored.id).name == "fox.png"
    version = MODELS["yorickvp/llava-13b"].latest_version
    output = client.run(f"yorickvp/llava-13b:{version}", input={"image": io.BytesIO(b"\x89PNG"), "prompt": "What?"})
    assert "image" in "".join(output)
    output = client.run(f"yorickvp/llava-13b:{version}", input={"image": stored.urls["get"], "prompt": "What?"})
    assert "image" in "".join(output)


def test_stream_tokens(simulator: Simulator, client: replicate.Client) -> None:
    simulator.latency = 0.05
    events = list(client.stream(LLAMA3, input={"prompt": "What is the capital of Spain?"}))
    assert "".join(str(event) for event in events) == "The capital of Spain is Madrid."
    assert events[-1].event.value == "done"
    assert simulator.predictions_created()[0]["stream"] is True


def test_model_error_for_a_failed_prediction(simulator: Simulator, client: replicate.Client) -> None:
    simulator.add_fault(Fault("fail"))
    with pytest.raises(ModelError) as excinfo:
        client.run(LLAMA3, input={"prompt": "hi"})
    assert excinfo.value.prediction.error == "CUDA out of memory (simulated)"


def test_bad_token_is_a_replicate_error(simulator: Simulator) -> None:
    with pytest.raises(ReplicateError) as excinfo:
        _client(simulator, token="r8-not-valid").run(LLAMA3, input={"prompt": "hi"})
    assert (excinfo.value.status, excinfo.value.title) == (401, "Unauthenticated")
    assert excinfo.value.detail


def test_not_found_and_invalid_input_are_replicate_errors(client: replicate.Client) -> None:
    with pytest.raises(ReplicateError) as missing:
        client.models.get("nobody/nothing")
    assert (missing.value.status, missing.value.title) == (404, "Not found")
    with pytest.raises(ReplicateError) as version_only:
        client.run("google-deepmind/gemma-7b-it", input={"prompt": "x"})  # runs by version only
    assert version_only.value.status == 404
    with pytest.raises(ReplicateError) as invalid:
        client.run(LLAMA3, input={"prompt": "hi", "max_tokens": "many"})
    assert (invalid.value.status, invalid.value.title) == (422, "Input validation failed")
    assert invalid.value.detail == "input.max_tokens: Invalid type. Expected: integer, given: string"


def test_client_retries_idempotent_requests_but_never_a_create(simulator: Simulator, client: replicate.Client) -> None:
    prediction = client.predictions.create(model=LLAMA3, input={"prompt": "hi"})
    simulator.add_fault(Fault("status", status=503, method="GET"))
    assert client.predictions.get(prediction.id).status == "succeeded"  # retried after the 503
    simulator.add_fault(Fault("created_then_status", status=503))
    with pytest.raises(ReplicateError):
        client.predictions.create(model=LLAMA3, input={"prompt": "hi"})
    assert simulator.creates_per_model() == {LLAMA3: 2}  # the failed create was not resent
