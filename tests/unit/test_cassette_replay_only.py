"""Record mode none plays a cassette without vcrpy's Cassette object: by the same rules as vcrpy."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from pytest_replicate.cassettes.cassette import Cassette, ReplayOnly
from pytest_replicate.errors import CassetteError


def _record(path: Path, answers: list[tuple[str, str, dict]]) -> None:
    """A cassette of ``answers``: (method, path, JSON answer), in order."""
    queue = list(answers)
    cassette = Cassette(path, "all")
    network = httpx.MockTransport(lambda request: httpx.Response(200, json=queue.pop(0)[2]))
    for method, where, _ in answers:
        body = b'{"input": {"prompt": "hi", "n": 1}}' if method == "POST" else b""
        cassette.exchange(httpx.Request(method, f"https://api.replicate.com{where}", content=body,
                                        headers={"content-type": "application/json"}), network)
    cassette.choice("adopted", "p1")
    cassette.save()


def _ask(cassette: Cassette, method: str, where: str, body: bytes = b"") -> dict:
    network = httpx.MockTransport(lambda request: pytest.fail("replay went to the network"))
    request = httpx.Request(method, f"https://other-host.test{where}", content=body,
                            headers={"content-type": "application/json"})
    return cassette.exchange(request, network).json()


def test_replay_plays_each_interaction_once_in_order_and_misses_after(tmp_path: Path) -> None:
    path = tmp_path / "case.yaml"
    _record(path, [("POST", "/v1/predictions", {"id": "a"}), ("GET", "/v1/predictions/a", {"n": 1}),
                   ("GET", "/v1/predictions/a", {"n": 2})])
    replay = Cassette(path, "none")
    assert isinstance(replay._cassette, ReplayOnly) and replay.replay_only
    # The JSON body matches parsed (key order aside); the host is not matched.
    assert _ask(replay, "POST", "/v1/predictions", b'{"input": {"n": 1, "prompt": "hi"}}') == {"id": "a"}
    assert [_ask(replay, "GET", "/v1/predictions/a")["n"] for _ in range(2)] == [1, 2]
    assert replay.played == frozenset({0, 1, 2}) and replay.interaction_count == 3
    assert replay.choice("adopted", "other") == "p1"  # metadata, as recorded
    assert replay.choice("adopted", "other") == "other"  # not recorded: the value given
    with pytest.raises(CassetteError, match="all 2 recorded responses for this request were already replayed"):
        _ask(replay, "GET", "/v1/predictions/a")
    with pytest.raises(CassetteError, match=r"input\.prompt"):  # the closest request, from vcrpy's own cassette
        _ask(replay, "POST", "/v1/predictions", b'{"input": {"prompt": "bye", "n": 1}}')
    assert replay.stats.as_dict() == {"replayed": 3, "recorded": 0, "missed": 2, "sent": 0}
    replay.save()  # nothing to save: the file is untouched
    assert Cassette(path, "none").interaction_count == 3


def test_replay_of_a_missing_cassette_says_how_to_record_it(tmp_path: Path) -> None:
    replay = Cassette(tmp_path / "absent.yaml", "none", rerun_hint="suite.eval.yaml::case")
    with pytest.raises(CassetteError, match="no cassette recorded for this item"):
        _ask(replay, "GET", "/v1/predictions/a")
    assert not (tmp_path / "absent.yaml").exists()
