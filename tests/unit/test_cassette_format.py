"""The cassette file format: structured JSON bodies, volatile values on one line, image sidecars,
files of the earlier format, redaction, what a miss shows, and when exchanges count as recorded."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import httpx
import pytest
import yaml
from helpers import png

from pytest_replicate.cassettes import serializer as cassette_format
from pytest_replicate.cassettes import sidecars
from pytest_replicate.cassettes.cassette import AtomicPersister, Cassette, CassetteStats, WritableFolders
from pytest_replicate.errors import CassetteError
from pytest_replicate.redaction import Redactor

OLD_FORMAT = Path(__file__).resolve().parents[1] / "fixtures" / "old_format_cassettes"
API = "http://127.0.0.1:8787"
IMAGE = png(3, 2)


def prediction(pid: str, output: object, **extra: object) -> dict:
    return {"id": pid, "status": "succeeded", "output": output, "created_at": "2026-01-01T00:00:00Z",
            "urls": {"get": f"{API}/v1/predictions/{pid}"}, "metrics": {"predict_time": 1.25},
            "logs": f"Running prediction {pid}\ndone", **extra}


def server(request: httpx.Request) -> httpx.Response:
    """A tiny stand-in for the API: a prediction per create, an image per file."""
    if request.url.path.startswith("/files/"):
        return httpx.Response(200, content=IMAGE, headers={"content-type": "image/png", "date": "Thu, 01 Jan"})
    body = json.loads(request.content)
    pid = "abcdefghij0123456789klmnop"
    output = [f"{API}/files/{pid}/out-0.png"] if body["input"].get("image") else ["Paris"]
    return httpx.Response(201, json=prediction(pid, output, input=body["input"]))


def call(cassette: Cassette, method: str, url: str, **kwargs: object) -> httpx.Response:
    return cassette.exchange(httpx.Request(method, url, **kwargs), httpx.MockTransport(server))


def create(cassette: Cassette, **input: object) -> httpx.Response:
    return call(cassette, "POST", f"{API}/v1/models/meta/llama/predictions", json={"input": input})


def record(path: Path, **input: object) -> dict:
    """Record one create (and the image it names) into ``path``; its prediction, as answered."""
    cassette = Cassette(path, "once")
    answer = create(cassette, **input).json()
    if input.get("image"):
        call(cassette, "GET", answer["output"][0])
    cassette.save()
    return answer


def test_json_bodies_are_sorted_yaml_and_volatile_values_sit_on_one_line(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    answer = record(path, prompt="hi", temperature=0.5)
    text = path.read_text()
    document = yaml.safe_load(text)
    (interaction,) = document["interactions"]
    assert interaction["request"]["body"] == {"json": {"input": {"prompt": "hi", "temperature": 0.5}}}
    body = interaction["response"]["body"]["json"]
    assert body["id"] == "{prediction-1}" and body["urls"]["get"] == f"{API}/v1/predictions/{{prediction-1}}"
    assert body["created_at"] == "{prediction-1.created_at}"
    assert body["metrics"]["predict_time"] == "{prediction-1.metrics.predict_time}"
    assert "logs: |-\n" in text  # multi-line text reads as a block
    assert document["volatile"]["prediction-1"] == answer["id"]
    assert [line for line in text.splitlines() if answer["id"] in line] == [text.splitlines()[-1]]

    replayed = create(Cassette(path, "none"), prompt="hi", temperature=0.5).json()
    assert replayed == answer  # the real values are back, typed (predict_time is a number)


def test_image_bytes_live_in_a_sidecar_and_replay_identically(tmp_path: Path) -> None:
    path = tmp_path / "case.1234abcd.yaml"
    answer = record(path, image=True)
    (sidecar,) = [p for p in tmp_path.iterdir() if p.suffix == ".png"]
    assert re.fullmatch(r"case\.1234abcd\.[0-9a-f]{16}\.png", sidecar.name)
    assert sidecar.read_bytes() == IMAGE
    text = path.read_text()
    assert "!!binary" not in text and f"file: {sidecar.name}" in text and "sha256: " in text
    assert "date" not in yaml.safe_load(text)["interactions"][1]["response"]["headers"]

    cassette = Cassette(path, "none")
    create(cassette, image=True)
    assert call(cassette, "GET", answer["output"][0]).content == IMAGE


@pytest.mark.parametrize("damage", ["delete", "edit"])
def test_a_missing_or_changed_sidecar_is_an_error_naming_it(tmp_path: Path, damage: str) -> None:
    path = tmp_path / "case.yaml"
    record(path, image=True)
    (sidecar,) = tmp_path.glob("*.png")
    if damage == "delete":
        sidecar.unlink()
    else:
        sidecar.write_bytes(IMAGE + b"!")
    expected = "which is missing" if damage == "delete" else "does not match the sha256"
    with pytest.raises(CassetteError, match=expected) as raised:
        Cassette(path, "none")
    assert sidecar.name in str(raised.value) and "--record-mode=rewrite" in str(raised.value)


def test_rerecording_replaces_the_sidecar_it_no_longer_needs(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "case.yaml"
    record(path, image=True)
    (first,) = tmp_path.glob("*.png")
    monkeypatch.setattr(f"{__name__}.IMAGE", png(5, 5))
    cassette = Cassette(path, "rewrite")
    call(cassette, "GET", f"{API}/files/x/out-0.png")
    cassette.save()
    (second,) = tmp_path.glob("*.png")
    assert second != first and second.read_bytes() == png(5, 5)


def test_a_session_drops_a_sidecar_its_own_rerecording_no_longer_needs(tmp_path: Path) -> None:
    """The session's folders know where sidecars may be (see WritableFolders): one it wrote counts too."""
    folders = WritableFolders()
    path = tmp_path / "cassettes" / "case.yaml"  # the folder does not exist yet when the session starts
    cassette = Cassette(path, "once", writable=folders)
    call(cassette, "GET", create(cassette, image=True).json()["output"][0])
    cassette.save()
    assert len(list(path.parent.glob("*.png"))) == 1
    again = Cassette(path, "rewrite", writable=folders)
    create(again, prompt="hi")
    again.save()
    assert list(path.parent.glob("*.png")) == []


def test_a_folder_an_earlier_recording_left_a_sidecar_in_is_still_cleaned(tmp_path: Path) -> None:
    record(tmp_path / "case.yaml", image=True)
    folders = WritableFolders()  # a later session
    cassette = Cassette(tmp_path / "case.yaml", "rewrite", writable=folders)
    create(cassette, prompt="hi")
    cassette.save()
    assert list(tmp_path.glob("*.png")) == []


def test_saves_into_a_folder_without_sidecars_do_not_list_it(tmp_path: Path, monkeypatch) -> None:
    """Listing a folder per save would make recording a folder of 1,000 cassettes quadratic."""
    listed: list = []
    real = sidecars.os.listdir
    monkeypatch.setattr(sidecars.os, "listdir", lambda folder: listed.append(folder) or real(folder))
    folders = WritableFolders()
    for number in range(3):
        cassette = Cassette(tmp_path / "cassettes" / f"case{number}.yaml", "rewrite", writable=folders)
        create(cassette, prompt=f"hi {number}")
        cassette.save()
    assert listed == []
    assert len(list((tmp_path / "cassettes").glob("*.yaml"))) == 3


REPOSITORY = Path(__file__).resolve().parents[2]
COMMITTED = sorted(path for path in REPOSITORY.glob("*/**/cassettes/**/*.yaml")
                   if ".git" not in path.parts and OLD_FORMAT not in path.parents)


@pytest.mark.parametrize("committed", COMMITTED, ids=lambda path: str(path.relative_to(REPOSITORY)))
def test_a_committed_cassette_saved_again_is_the_same_bytes(committed: Path, tmp_path: Path) -> None:
    """Loading a cassette and saving what was loaded writes the file it came from, byte for byte:
    re-recording identical answers changes nothing, whatever the serializer does to be fast."""
    folder = tmp_path / "copy"
    shutil.copytree(committed.parent, folder)
    copy = folder / committed.name
    requests, responses, *metadata = AtomicPersister.load_cassette(copy, cassette_format)
    copy.unlink()
    AtomicPersister.save_cassette(copy, {"requests": requests, "responses": responses,
                                         **({"metadata": metadata[0]} if metadata else {})}, cassette_format)
    assert copy.read_bytes() == committed.read_bytes()


def test_there_are_committed_cassettes_to_compare() -> None:
    assert len(COMMITTED) >= 10


def test_cassettes_of_the_earlier_format_still_replay(tmp_path: Path) -> None:
    for source in OLD_FORMAT.glob("*.yaml"):
        shutil.copy(source, tmp_path / source.name)
    (sdxl,) = tmp_path.glob("*sdxl*.yaml")
    cassette = Cassette(sdxl, "none")
    answer = call(cassette, "POST", f"{API}/v1/predictions", json={
        "version": "7762fd07cf82c948538e41f63f77d685e02b063e37e496e96eefd46c929f9bdc",
        "input": {"width": 768, "height": 768, "num_inference_steps": 50, "prompt": "Generate an image: fruit loops"}})
    image = call(cassette, "GET", answer.json()["output"][0])
    assert image.headers["content-type"] == "image/png" and image.content.startswith(b"\x89PNG")
    (llama,) = tmp_path.glob("*France*.yaml")
    text = call(Cassette(llama, "none"), "POST", f"{API}/v1/models/meta/llama-2-7b-chat/predictions", json={
        "input": {"temperature": 0.01, "max_length": 1024,
                  "prompt": "[INST] Answer briefly: What is the capital of France? [/INST]"}}).json()
    assert "".join(text["output"]) == "The capital of France is Paris."


def test_secrets_in_a_structured_response_body_are_scrubbed(tmp_path: Path) -> None:
    canary = "r8_" + "canary" * 7  # built here, so the repository never holds a token-like string
    path = tmp_path / "c.yaml"

    def leaky(request: httpx.Request) -> httpx.Response:
        return httpx.Response(201, json=prediction("p0123456789abcdefghijklmn", [f"your key is {canary}"],
                                                   error={"detail": canary}))

    cassette = Cassette(path, "once", redactor=Redactor([canary]))
    cassette.exchange(httpx.Request("POST", f"{API}/v1/predictions", json={"input": {}}), httpx.MockTransport(leaky))
    cassette.save()
    text = path.read_text()
    assert canary not in text
    body = yaml.safe_load(text)["interactions"][0]["response"]["body"]["json"]
    assert body["output"] == ["your key is <REDACTED>"] and body["error"] == {"detail": "<REDACTED>"}


def test_a_miss_shows_where_a_long_prompt_changed(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    prompt = ("Classify the support ticket into exactly one of billing, account, shipping or other, "
              "and answer with that single word in lower case, nothing else. Ticket: {ticket}")
    record(path, prompt=prompt)
    with pytest.raises(CassetteError) as raised:
        create(Cassette(path, "none"), prompt=prompt.replace("account", "refunds"))
    (line,) = [line.strip() for line in str(raised.value).splitlines() if line.strip().startswith("input.prompt")]
    before, after = line.removeprefix("input.prompt: ").split(" -> ")
    assert "account" in before and "refunds" in after  # the change itself, on both sides
    assert before.startswith("...") and before.endswith("...") and len(before) < 70


def test_exchanges_count_as_recorded_only_once_saved(tmp_path: Path) -> None:
    stats = CassetteStats()
    failed = Cassette(tmp_path / "failed.yaml", "once", stats=stats)
    create(failed, prompt="hi")
    assert stats.as_dict() == {"replayed": 0, "recorded": 0, "missed": 0, "sent": 1}  # sent, not saved (yet)
    saved = Cassette(tmp_path / "saved.yaml", "once", stats=stats)
    create(saved, prompt="hi")
    create(saved, prompt="again")
    saved.save()
    assert stats.as_dict() == {"replayed": 0, "recorded": 2, "missed": 0, "sent": 3}
    assert not (tmp_path / "failed.yaml").exists()


def test_only_the_last_of_a_predictions_polls_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    statuses = iter(["processing", "processing", "succeeded"])
    poll = f"{API}/v1/predictions/abcdefghij0123456789klmnop"

    def polled(request: httpx.Request) -> httpx.Response:
        status = next(statuses)
        return httpx.Response(200, json=prediction("abcdefghij0123456789klmnop", ["Paris"] if status == "succeeded"
                                                   else None, status=status))

    cassette = Cassette(path, "once")
    create(cassette, prompt="hi")
    for _ in range(3):
        cassette.exchange(httpx.Request("GET", poll), httpx.MockTransport(polled))
    cassette.save()
    statuses_kept = [i["response"]["body"]["json"]["status"] for i in yaml.safe_load(path.read_text())["interactions"]]
    assert statuses_kept == ["succeeded", "succeeded"]  # the create, then one poll: how many it took is timing
    replay = Cassette(path, "none")
    create(replay, prompt="hi")
    assert replay.exchange(httpx.Request("GET", poll), httpx.MockTransport(polled)).json()["output"] == ["Paris"]
