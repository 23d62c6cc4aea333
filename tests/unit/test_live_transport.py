"""The network transport is made on a thread of its own while pytest collects, when every call
will go live (``LiveTransport.warm_up``): ready for the first requests, never made twice."""

from __future__ import annotations

import threading

import httpx
import pytest

from pytest_replicate.http import client as http_client
from pytest_replicate.http.client import CallClient, LiveTransport, make_client
from pytest_replicate.run.session import EvalSession
from pytest_replicate.run.settings import Settings


@pytest.fixture
def made(monkeypatch) -> list[str]:
    """The threads that made a network transport, in order."""
    threads: list[str] = []

    class Transport(httpx.HTTPTransport):
        def __init__(self, **options: object) -> None:
            threads.append(threading.current_thread().name)
            super().__init__(**options)

    monkeypatch.setattr(http_client.httpx, "HTTPTransport", Transport)
    return threads


def _warmed_up() -> None:
    for thread in threading.enumerate():
        if thread.name == "pytest-replicate-warm-up":
            thread.join(5)


def test_warm_up_makes_the_transport_the_requests_then_use(made, simulator) -> None:
    live = LiveTransport()
    live.warm_up()
    _warmed_up()
    assert made == ["pytest-replicate-warm-up"]
    with httpx.Client(transport=live) as client:
        assert client.get(f"{simulator.url}/v1/models/meta/llama-2-7b-chat").status_code < 500
    assert made == ["pytest-replicate-warm-up"]  # not made again


def test_a_failed_warm_up_is_left_for_the_first_request(monkeypatch, simulator) -> None:
    attempts: list[str] = []

    class Transport(httpx.HTTPTransport):
        def __init__(self, **options: object) -> None:
            attempts.append(threading.current_thread().name)
            if len(attempts) == 1:
                raise OSError("no certificates here")
            super().__init__(**options)

    monkeypatch.setattr(http_client.httpx, "HTTPTransport", Transport)
    live = LiveTransport()
    live.warm_up()
    _warmed_up()
    with httpx.Client(transport=live) as client:  # made again, by the request that needs it
        assert client.get(f"{simulator.url}/v1/models/meta/llama-2-7b-chat").status_code < 500
    assert attempts == ["pytest-replicate-warm-up", threading.current_thread().name]


def test_a_transport_closed_first_is_not_made_by_the_warm_up(made) -> None:
    live = LiveTransport()
    live.close()
    live.warm_up()
    _warmed_up()
    assert made == []


@pytest.mark.parametrize(("record_mode", "drift", "warmed"), [
    ("rewrite", None, True), ("all", None, True), ("none", "report", True),
    ("once", None, False), ("new_episodes", None, False), ("none", None, False),
])
def test_only_a_session_whose_every_call_goes_live_warms_up(made, record_mode, drift, warmed) -> None:
    session = EvalSession(Settings(record_mode=record_mode, drift=drift), env={})
    try:
        _warmed_up()
        assert made == (["pytest-replicate-warm-up"] if warmed else [])
    finally:
        session.close()


def test_a_live_request_is_told_out_once_written_not_once_answered(simulator) -> None:
    """The scheduler holds back a finished call's bookkeeping until the calls just started are out."""
    events: list[str] = []
    with make_client() as client:
        calls = CallClient(client, None, on_request=lambda: events.append("told"))
        response = calls.get(f"{simulator.url}/v1/models/meta/llama-2-7b-chat",
                             extensions={"trace": lambda event, info: events.append(event)})
    assert response.status_code < 500
    assert events.count("told") == 1
    told = events.index("told")
    assert events[told - 1] == "http11.send_request_body.complete"
    assert "http11.receive_response_headers.started" in events[told:]


def test_a_refused_request_is_told_too(simulator) -> None:
    told: list[str] = []

    def refuse() -> None:
        raise RuntimeError("spend limit")

    with make_client() as client:
        calls = CallClient(client, None, on_request=lambda: told.append("told"), before_live=refuse)
        with pytest.raises(RuntimeError, match="spend limit"):
            calls.get(f"{simulator.url}/v1/models/meta/llama-2-7b-chat")
    assert told == ["told"]
