"""Shared helpers for the plugin's own tests."""

from __future__ import annotations

import textwrap

import pytest


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
    monkeypatch.setenv("PYTEST_ADDOPTS", "-p pytest_replicate.plugin")
