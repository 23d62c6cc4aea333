"""Cassettes: choices recorded beside the interactions, and vcrpy's context opened without patching."""

from __future__ import annotations

import http.client

import httpx
import yaml

from pytest_replicate.cassettes.cassette import Cassette


def test_choices_are_recorded_in_order_and_replayed_in_order(tmp_path) -> None:
    path = tmp_path / "c.yaml"
    recording = Cassette(path, "once")
    assert recording.choice("adopted", "p1") == "p1"
    assert recording.choice("adopted", "p2") == "p2"
    recording.save()
    assert yaml.safe_load(path.read_text())["metadata"] == {"adopted #1": "p1", "adopted #2": "p2"}

    replay = Cassette(path, "none")
    assert [replay.choice("adopted", "newest"), replay.choice("adopted", "newest")] == ["p1", "p2"]
    assert replay.choice("adopted", "newest") == "newest"  # not recorded: what the caller would choose


def test_rewrite_starts_afresh_even_from_a_corrupt_file(tmp_path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("interactions: [unclosed", encoding="utf-8")
    cassette = Cassette(path, "rewrite")
    assert cassette.choice("adopted", "p9") == "p9"
    cassette.save()
    assert yaml.safe_load(path.read_text())["metadata"] == {"adopted #1": "p9"}


def test_an_open_cassette_patches_no_http_library(tmp_path) -> None:
    before = (httpx.HTTPTransport.handle_request, http.client.HTTPConnection.request)
    cassette = Cassette(tmp_path / "c.yaml", "once")
    assert (httpx.HTTPTransport.handle_request, http.client.HTTPConnection.request) == before
    cassette.save()
    assert not (tmp_path / "c.yaml").exists()  # nothing recorded, nothing written
