"""Fixtures shared by the unit and end-to-end tests; plain helpers live in ``helpers.py``."""

from __future__ import annotations

import textwrap

# httpx imports httpcore lazily and caches its exception classes. pytester's in-process
# runs unload modules first imported during a run, which would leave that cache holding
# classes of an unloaded httpcore; importing it here keeps one copy for the session.
import httpcore  # noqa: F401
import pytest

# PyYAML's C parser stays loaded when pytester unloads yaml, and keeps making events of the
# first yaml's classes: a yaml imported again would not know them.
import yaml  # noqa: F401
from helpers import FAKE_TOKEN


@pytest.fixture
def write_eval(pytester: pytest.Pytester):
    """Write a dedented eval file into the pytester directory and return its path."""

    def write(text: str, name: str = "suite.eval.yaml"):
        path = pytester.path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return write


@pytest.fixture(autouse=True)
def _isolated_plugins(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Inner pytest runs load only our plugin, not whatever else the machine has installed.

    That keeps them fast (pytester re-imports plugins loaded during each run) and
    independent of the environment; test_entry_point_is_registered checks autoloading.
    """
    if "pytester" not in request.fixturenames:
        return
    request.getfixturevalue("pytester")  # it clears PYTEST_ADDOPTS when created
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    monkeypatch.setenv("PYTEST_ADDOPTS", "-p pytest_replicate.pytest.plugin")
    monkeypatch.delenv("CI", raising=False)  # inner runs use the local default record mode, once


@pytest.fixture
def simulator():
    """A Replicate simulator on 127.0.0.1, stopped after the test."""
    from pytest_replicate.simulator import Simulator

    with Simulator() as server:
        yield server


@pytest.fixture
def replicate_env(simulator, monkeypatch: pytest.MonkeyPatch):
    """Point providers at the simulator with a fake token; returns the simulator."""
    monkeypatch.setenv("REPLICATE_BASE_URL", simulator.url)
    monkeypatch.setenv("REPLICATE_API_TOKEN", FAKE_TOKEN)
    for name in ("REPLICATE_API_KEY", "REPLICATE_TEMPERATURE", "REPLICATE_MAX_LENGTH", "REPLICATE_TOP_P",
                 "REPLICATE_TOP_K", "REPLICATE_SEED", "REPLICATE_STOP_SEQUENCES", "REPLICATE_SYSTEM_PROMPT",
                 "REPLICATE_REPETITION_PENALTY"):
        monkeypatch.delenv(name, raising=False)
    return simulator


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list:
    """The delays the plugin waits for (it sleeps on each call's cancel event), in order."""
    import sys
    import threading

    waits: list = []
    original = threading.Event.wait

    def wait(self, timeout=None):
        if sys._getframe(1).f_globals.get("__name__", "").startswith("pytest_replicate"):
            waits.append(timeout)
        return original(self, timeout)

    monkeypatch.setattr(threading.Event, "wait", wait)
    return waits
