"""The model catalogue: built-in models, catalogue files, schemas, lookups and strict mode."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from pytest_replicate.simulator import BUILTIN, CatalogueError, Simulator, load_catalogue, parse_catalogue

TOKEN = "r8_test_token"
ROOT = Path(__file__).resolve().parents[2]
CATALOGUE_YAML = """
models:
  - owner: acme
    name: tiny-chat
    kind: text
    input:
      prompt: {type: string, required: true}
      max_tokens: {type: integer, default: 16, minimum: 1}
      mood: {type: string, choices: [calm, loud]}
    answers:
      - when: capital of atlantis
        output: "Atlantis has no capital."
  - model: acme/private-painter
    kind: image
    official: false
    versions: ["%s"]
deployments:
  - {owner: acme, name: chat-prod, model: acme/tiny-chat}
""" % ("a" * 64)


def _client(simulator: Simulator) -> httpx.Client:
    return httpx.Client(base_url=simulator.url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5,
                        verify=False)


@pytest.fixture
def acme(tmp_path: Path) -> Iterator[Simulator]:
    path = tmp_path / "models.yaml"
    path.write_text(CATALOGUE_YAML, encoding="utf-8")
    with Simulator(catalogue=BUILTIN.merged(load_catalogue(path))) as simulator:
        yield simulator


def test_builtin_catalogue_covers_the_docs_and_example_suite() -> None:
    for ref in ("meta/llama-2-7b-chat", "meta/meta-llama-3-8b-instruct", "meta/llama-2-70b-chat",
                "mistralai/mixtral-8x7b-instruct-v0.1", "google-deepmind/gemma-7b-it", "stability-ai/sdxl",
                "meta/llama-guard-3-8b", "replicate/all-mpnet-base-v2"):
        assert ref in BUILTIN.models
    version_only = {ref for ref, spec in BUILTIN.models.items() if not spec.official}
    assert {"stability-ai/sdxl", "meta/llama-guard-3-8b", "google-deepmind/gemma-7b-it",
            "replicate/all-mpnet-base-v2"} <= version_only


def test_catalogue_file_adds_models_answers_and_deployments(acme: Simulator) -> None:
    with _client(acme) as client:
        answer = client.post("/v1/models/acme/tiny-chat/predictions",
                             json={"input": {"prompt": "What is the capital of Atlantis?"}}).json()
        assert "".join(answer["output"]) == "Atlantis has no capital."
        bad = client.post("/v1/models/acme/tiny-chat/predictions", json={"input": {"prompt": "x", "mood": "sad"}})
        assert bad.json()["invalid_fields"] == [{"type": "enum", "field": "input.mood",
                                                 "description": 'mood must be one of the following: "calm", "loud"'}]
        assert client.post("/v1/models/acme/private-painter/predictions", json={"input": {}}).status_code == 404
        painted = client.post("/v1/predictions", json={"version": "a" * 64, "input": {"prompt": "a fox"}})
        assert painted.json()["model"] == "acme/private-painter"
        deployed = client.post("/v1/deployments/acme/chat-prod/predictions", json={"input": {"prompt": "hi"}})
        assert deployed.json()["model"] == "acme/tiny-chat"
        assert client.get("/v1/models/meta/llama-2-7b-chat").status_code == 200  # built-ins stay


def test_json_catalogue_and_list_form(tmp_path: Path) -> None:
    path = tmp_path / "models.json"
    path.write_text(json.dumps([{"owner": "acme", "name": "embedder", "kind": "embedding"}]), encoding="utf-8")
    spec = load_catalogue(path).models["acme/embedder"]
    assert spec.kind == "embedding" and len(spec.latest_version) == 64 and "text" in spec.inputs


@pytest.mark.parametrize(("data", "message"), [
    ({"models": [{"owner": "acme"}]}, "give 'owner' and 'name'"),
    ({"models": [{"model": "acme/x", "kind": "video"}]}, "kind must be one of"),
    ({"models": [{"model": "acme/x", "versions": ["v1"]}]}, "64 lower-case hex"),
    ({"models": [{"model": "acme/x", "input": {"n": "float"}}]}, "input.n: type must be one of"),
    ({"models": [{"model": "acme/x", "answers": [{"output": "y"}]}]}, "answers[0]"),
    ({"models": [{"model": "acme/x", "answers": [{"when": "x", "output": "y", "outputs": ["z"]}]}]}, "answers[0]"),
    ({"models": [{"model": "acme/x", "answers": [{"when": "x", "outputs": []}]}]}, "one per prediction in turn"),
    ({"modles": []}, "unknown top-level keys"),
    ({"deployments": [{"owner": "acme"}]}, "deployments[0]"),
])
def test_catalogue_errors_name_the_entry(data: object, message: str) -> None:
    with pytest.raises(CatalogueError) as excinfo:
        parse_catalogue(data)
    assert message in str(excinfo.value)


def test_model_and_version_lookups(simulator: Simulator) -> None:
    with _client(simulator) as client:
        model = client.get("/v1/models/mistralai/mixtral-8x7b-instruct-v0.1").json()
        versions = BUILTIN.models["mistralai/mixtral-8x7b-instruct-v0.1"].versions
        assert model["latest_version"]["id"] == versions[0]
        schema = model["latest_version"]["openapi_schema"]["components"]["schemas"]
        assert schema["Input"]["required"] == ["prompt"]
        assert schema["Output"]["x-cog-array-type"] == "iterator"
        listed = client.get("/v1/models/mistralai/mixtral-8x7b-instruct-v0.1/versions").json()
        assert [v["id"] for v in listed["results"]] == list(versions)
        one = client.get(f"/v1/models/mistralai/mixtral-8x7b-instruct-v0.1/versions/{versions[1]}")
        assert one.json()["id"] == versions[1]
        assert client.get("/v1/models/mistralai/mixtral-8x7b-instruct-v0.1/versions/" + "0" * 64).status_code == 404
        assert client.get("/v1/models/nobody/nothing").status_code == 404


def test_each_model_validates_its_own_parameters(simulator: Simulator) -> None:
    with _client(simulator) as client:
        llama3 = client.post("/v1/models/meta/meta-llama-3-8b-instruct/predictions",
                             json={"input": {"prompt": "Tell me about volcanoes", "max_tokens": 2}}).json()
        assert len(llama3["output"]) == 2
        assert llama3["input"] == {"prompt": "Tell me about volcanoes", "max_tokens": 2}  # echoed as sent
        llama2 = client.post("/v1/models/meta/llama-2-7b-chat/predictions",
                             json={"input": {"prompt": "Tell me about volcanoes", "max_tokens": 2}}).json()
        assert len(llama2["output"]) > 2  # llama-2 has no max_tokens: ignored like any unknown key
        response = client.post("/v1/models/meta/llama-2-7b-chat/predictions",
                               json={"input": {"prompt": "hi", "max_new_tokens": 0, "top_p": 2}})
        assert response.status_code == 422
        assert response.json()["title"] == "Input validation failed"
        assert response.json()["invalid_fields"] == [
            {"type": "number_gte", "field": "input.max_new_tokens",
             "description": "Must be greater than or equal to 1"},
            {"type": "number_lte", "field": "input.top_p", "description": "Must be less than or equal to 1"},
        ]


def test_strict_mode_answers_as_replicate_does() -> None:
    with Simulator(strict=True) as simulator, _client(simulator) as client:
        for ref in ("stability-ai/sdxl", "meta/llama-guard-3-8b"):
            response = client.post(f"/v1/models/{ref}/predictions", json={"input": {"prompt": "x"}})
            assert response.status_code == 404, ref
        unknown = client.post("/v1/predictions", json={"version": "f" * 64, "input": {"prompt": "x"}})
        assert unknown.status_code == 422
        assert unknown.json()["title"] == "Invalid version or not permitted"


def test_lenient_mode_still_runs_sdxl_and_llama_guard_3_by_name() -> None:
    with Simulator(strict=False) as simulator, _client(simulator) as client:
        for ref in ("stability-ai/sdxl", "meta/llama-guard-3-8b"):
            assert client.post(f"/v1/models/{ref}/predictions", json={"input": {"prompt": "x"}}).status_code == 201


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    return subprocess.run([sys.executable, "-m", "pytest_replicate.simulator", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=30)


def test_list_models_command_includes_catalogue_files(tmp_path: Path) -> None:
    path = tmp_path / "models.yaml"
    path.write_text(CATALOGUE_YAML, encoding="utf-8")
    result = _cli("--models", str(path), "--list-models")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert any(line.startswith("acme/private-painter") and "version-only" in line for line in lines)
    assert any(line.startswith("stability-ai/sdxl") for line in lines)
    bad = tmp_path / "bad.yaml"
    bad.write_text("models: [{owner: acme}]", encoding="utf-8")
    failed = _cli("--models", str(bad), "--list-models")
    assert failed.returncode == 2 and "give 'owner' and 'name'" in failed.stderr


def test_a_catalogue_model_can_set_its_own_latency() -> None:
    slow = parse_catalogue([{"model": "acme/slow-chat", "latency": 30}])
    with Simulator(catalogue=BUILTIN.merged(slow)) as simulator, _client(simulator) as client:
        assert client.post("/v1/models/acme/slow-chat/predictions",
                           json={"input": {"prompt": "hi"}}).json()["status"] == "starting"
        assert client.post("/v1/models/meta/llama-2-7b-chat/predictions",
                           json={"input": {"prompt": "hi"}}).json()["status"] == "succeeded"


def test_a_canned_answer_with_outputs_answers_each_prediction_of_a_prompt_in_turn() -> None:
    """For repeated samples: a model whose answer varies from one prediction to the next, predictably."""
    coin = parse_catalogue([{"model": "acme/coin", "answers": [{"when": "coin", "outputs": ["heads", "tails"]}]}])
    with Simulator(catalogue=BUILTIN.merged(coin)) as simulator, _client(simulator) as client:
        def toss(prompt: str) -> str:
            return "".join(client.post("/v1/models/acme/coin/predictions", headers={"Prefer": "wait"},
                                       json={"input": {"prompt": prompt}}).json()["output"])

        assert [toss("Toss a coin"), toss("Toss a coin"), toss("Toss another coin"), toss("Toss a coin")] == [
            "heads", "tails", "heads", "heads"]  # each prompt counts its own turns
        simulator.reset()
        assert toss("Toss a coin") == "heads"
