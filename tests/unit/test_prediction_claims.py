"""PredictionClaims: an adoption of an input runs alone, after every create of that input settled."""

from __future__ import annotations

import threading

import pytest

from pytest_replicate.providers import PredictionClaims


def keep_waiting() -> None:
    """A ``check`` that never stops a wait."""


class Stop(Exception):
    pass


def hold_a_create(claims: PredictionClaims, key: str) -> tuple[threading.Event, threading.Thread]:
    """A create of ``key`` in flight in another thread until the returned event is set."""
    out, answer = threading.Event(), threading.Event()

    def held_create() -> None:
        with claims.creating(key, keep_waiting):
            out.set()
            answer.wait(5)

    creator = threading.Thread(target=held_create)
    creator.start()
    out.wait(5)
    return answer, creator


def test_a_prediction_is_claimed_once() -> None:
    claims = PredictionClaims()
    assert claims.claim("p1") is True
    assert claims.claim("p1") is False


def test_an_adoption_waits_for_a_create_of_its_input_and_sees_its_claim() -> None:
    claims = PredictionClaims()
    inside, answer = threading.Event(), threading.Event()

    def held_create() -> None:
        with claims.creating("x", keep_waiting):
            inside.set()
            answer.wait(5)
            claims.claim("theirs")

    creator = threading.Thread(target=held_create)
    creator.start()
    inside.wait(5)
    seen: list[frozenset[str]] = []
    timer = threading.Timer(0.2, answer.set)  # the held create answers while the adoption waits
    timer.start()
    chosen = claims.adopt("x", lambda claimed: seen.append(claimed) or {"id": "mine"}, keep_waiting)
    creator.join(5)
    assert seen == [frozenset({"theirs"})]
    assert chosen == {"id": "mine"} and claims.claim("mine") is False  # claimed with the choice


def test_a_create_of_the_same_input_waits_for_an_adoption_and_other_inputs_do_not() -> None:
    claims = PredictionClaims()
    choosing, release = threading.Event(), threading.Event()
    started: list[str] = []

    def choose(claimed: frozenset[str]) -> None:
        choosing.set()
        release.wait(5)
        started.append("adoption done")

    adopter = threading.Thread(target=claims.adopt, args=("x", choose, keep_waiting))
    adopter.start()
    choosing.wait(5)

    def create(key: str) -> None:
        with claims.creating(key, keep_waiting):
            started.append(key)

    same, other = threading.Thread(target=create, args=("x",)), threading.Thread(target=create, args=("y",))
    same.start()
    other.start()
    other.join(5)
    assert started == ["y"]  # "x" is held back while the adoption chooses
    release.set()
    adopter.join(5)
    same.join(5)
    assert started == ["y", "adoption done", "x"]


def test_a_wait_ends_when_check_raises_and_leaves_nothing_behind() -> None:
    claims = PredictionClaims()
    answer, creator = hold_a_create(claims, "x")

    def stop() -> None:
        raise Stop

    with pytest.raises(Stop):
        claims.adopt("x", lambda claimed: {"id": "p"}, stop)
    assert claims.adopt("x", lambda claimed: {"id": "p"}, None, own_creates=1) == {"id": "p"}
    answer.set()
    creator.join(5)
    with claims.creating("x", stop):  # no adoption is left waiting: the create does not wait
        pass


def test_without_check_an_adoption_that_would_wait_gives_up_at_once() -> None:
    claims = PredictionClaims()
    with claims.creating("x", keep_waiting):
        assert claims.adopt("x", lambda claimed: {"id": "p"}, None) is None
        assert claims.adopt("x", lambda claimed: {"id": "p"}, None, own_creates=1) == {"id": "p"}


def test_identical_concurrent_adoptions_each_take_a_different_prediction() -> None:
    claims = PredictionClaims()
    listed = [{"id": f"p{n}"} for n in range(5)]
    taken: list[str] = []

    def adopt() -> None:
        def newest_unclaimed(claimed: frozenset[str]) -> dict | None:
            return next((p for p in listed if p["id"] not in claimed), None)

        chosen = claims.adopt("x", newest_unclaimed, keep_waiting)
        assert chosen is not None
        taken.append(chosen["id"])

    threads = [threading.Thread(target=adopt) for _ in listed]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)
    assert sorted(taken) == [p["id"] for p in listed]


def test_without_check_an_adoption_gives_way_to_one_waiting() -> None:
    claims = PredictionClaims()
    answer, creator = hold_a_create(claims, "x")
    waits = threading.Event()  # set between the waiting adoption's waits
    waiting = threading.Thread(target=claims.adopt, args=("x", lambda claimed: {"id": "theirs"}, waits.set))
    waiting.start()
    waits.wait(5)
    assert claims.adopt("x", lambda claimed: {"id": "p"}, None, own_creates=1) is None
    answer.set()
    creator.join(5)
    waiting.join(5)
    assert claims.claim("theirs") is False
